package io.github.lora4j.data;

import java.util.Objects;

/**
 * How examples become training batches, in TRL's {@code SFTConfig} terms. Build with {@link
 * #builder()}; every setter checks its argument.
 *
 * <pre>{@code
 * SftConfig config = SftConfig.builder().maxSequenceLength(182).batchSize(16).packing(true).build();
 * }</pre>
 *
 * @param maxSequenceLength the most tokens per example (TRL's {@code max_length}); longer ones are
 *     cut at the end and counted; with packing, also the length of a packed row
 * @param completionOnlyLoss for prompt-completion data, train only on the completion's tokens
 * @param assistantOnlyLoss for conversations, train only on the assistant's turns
 * @param addEos end text and prompt-completion examples with the EOS token (the chat template ends
 *     conversations itself), so that the model learns to stop
 * @param packing put several examples in one row, each with its own positions and no attention
 *     across them (padding-free), instead of one example per row padded to the batch's longest
 * @param batchSize rows per batch
 * @param padToMultipleOf round each batch's row length up to a multiple of this (1 for none)
 * @param shuffle shuffle rows each epoch; the order depends only on seed and epoch
 * @param seed the seed of the shuffle
 * @param invalidRecords what to do with an example that cannot be trained on (no token with loss
 *     left after truncation, a chat template that fails)
 */
public record SftConfig(
    int maxSequenceLength,
    boolean completionOnlyLoss,
    boolean assistantOnlyLoss,
    boolean addEos,
    boolean packing,
    int batchSize,
    int padToMultipleOf,
    boolean shuffle,
    long seed,
    InvalidRecordPolicy invalidRecords) {

  /** Checks every component as the builder does; prefer {@link #builder}. */
  public SftConfig {
    positive("maxSequenceLength", maxSequenceLength);
    positive("batchSize", batchSize);
    positive("padToMultipleOf", padToMultipleOf);
    Objects.requireNonNull(invalidRecords, "invalidRecords");
  }

  /** TRL's defaults: max length 1024, completion-only and assistant-only loss, EOS, no packing, batch 8, seed 42. */
  public static Builder builder() {
    return new Builder();
  }

  private static int positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive: " + value);
    }
    return value;
  }

  /** A builder starting from TRL's defaults. */
  public static final class Builder {
    private int maxSequenceLength = 1024;
    private boolean completionOnlyLoss = true;
    private boolean assistantOnlyLoss = true;
    private boolean addEos = true;
    private boolean packing;
    private int batchSize = 8;
    private int padToMultipleOf = 1;
    private boolean shuffle = true;
    private long seed = 42;
    private InvalidRecordPolicy invalidRecords = InvalidRecordPolicy.STRICT;

    private Builder() {}

    public Builder maxSequenceLength(int maxSequenceLength) {
      this.maxSequenceLength = positive("maxSequenceLength", maxSequenceLength);
      return this;
    }

    public Builder completionOnlyLoss(boolean completionOnlyLoss) {
      this.completionOnlyLoss = completionOnlyLoss;
      return this;
    }

    public Builder assistantOnlyLoss(boolean assistantOnlyLoss) {
      this.assistantOnlyLoss = assistantOnlyLoss;
      return this;
    }

    public Builder addEos(boolean addEos) {
      this.addEos = addEos;
      return this;
    }

    public Builder packing(boolean packing) {
      this.packing = packing;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = positive("batchSize", batchSize);
      return this;
    }

    public Builder padToMultipleOf(int padToMultipleOf) {
      this.padToMultipleOf = positive("padToMultipleOf", padToMultipleOf);
      return this;
    }

    public Builder shuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder invalidRecords(InvalidRecordPolicy invalidRecords) {
      this.invalidRecords = Objects.requireNonNull(invalidRecords, "invalidRecords");
      return this;
    }

    public SftConfig build() {
      return new SftConfig(maxSequenceLength, completionOnlyLoss, assistantOnlyLoss, addEos, packing, batchSize, padToMultipleOf, shuffle, seed, invalidRecords);
    }
  }
}
