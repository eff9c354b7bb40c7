package io.github.lora4j.data;

import java.util.Arrays;

/**
 * A batch of token rows ready for a causal language model, flattened row-major to {@code [batch,
 * seq]}.
 *
 * <p>{@code labels} follow Hugging Face's convention: they are aligned with {@code inputIds} (the
 * model shifts them, so position t is trained to predict {@code labels[t + 1]}) and {@value
 * #IGNORE_INDEX} marks tokens that carry no loss. {@code positions} are the rotary positions of each
 * token (0, 1, 2, ... within each example). {@code segments} says which tokens may attend to which:
 * 0 for padding, and within a row the same positive number for tokens of one example (an attention
 * mask of ones and zeros is a valid segment map; packed rows number their examples 1, 2, ...).
 */
public record TokenBatch(int batchSize, int sequenceLength, int[] inputIds, int[] labels, int[] positions, int[] segments) {

  /** The label value that contributes no loss, as in PyTorch's cross-entropy. */
  public static final int IGNORE_INDEX = -100;

  public TokenBatch {
    if (batchSize <= 0 || sequenceLength <= 0) {
      throw new IllegalArgumentException("batch shape must be positive: [" + batchSize + ", " + sequenceLength + "]");
    }
    int n = Math.multiplyExact(batchSize, sequenceLength);
    check("inputIds", inputIds, n);
    check("labels", labels, n);
    check("positions", positions, n);
    check("segments", segments, n);
  }

  /**
   * A right-padded batch with positions 0..seq-1 and the attention mask (1 = token, 0 = padding) as
   * its segment map.
   */
  public static TokenBatch padded(int batchSize, int sequenceLength, int[] inputIds, int[] labels, int[] attentionMask) {
    int[] positions = new int[batchSize * sequenceLength];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = i % sequenceLength;
    }
    int[] segments = attentionMask != null ? attentionMask : filled(batchSize * sequenceLength, 1);
    return new TokenBatch(batchSize, sequenceLength, inputIds, labels, positions, segments);
  }

  /**
   * A batch of packed rows: each row holds several examples one after another, numbered by {@code
   * segments} (1, 2, ... within a row; 0 for padding at the row's end). Positions restart at 0 with
   * each example, and padding gets position 0, so that each example sees the rotary positions it
   * would see alone, and the segment map keeps it from attending to its neighbours.
   */
  public static TokenBatch packed(int batchSize, int sequenceLength, int[] inputIds, int[] labels, int[] segments) {
    check("segments", segments, Math.multiplyExact(batchSize, sequenceLength));
    int[] positions = new int[segments.length];
    for (int b = 0; b < batchSize; b++) {
      int position = 0;
      for (int t = 0; t < sequenceLength; t++) {
        int i = b * sequenceLength + t;
        boolean starts = t == 0 || segments[i] != segments[i - 1];
        position = starts ? 0 : position + 1;
        positions[i] = segments[i] == 0 ? 0 : position;
      }
    }
    return new TokenBatch(batchSize, sequenceLength, inputIds, labels, positions, segments);
  }

  /** The number of token slots, padding included: {@code batchSize * sequenceLength}. */
  public int tokenCount() {
    return batchSize * sequenceLength;
  }

  /** The tokens that are not padding (segment != 0), which throughput counts. */
  public int realTokenCount() {
    int n = 0;
    for (int s : segments) {
      if (s != 0) {
        n++;
      }
    }
    return n;
  }

  /**
   * The training targets after Hugging Face's shift: {@code targets[b, t] = labels[b, t + 1]}, and
   * {@value #IGNORE_INDEX} at the last position of each row.
   */
  public int[] shiftedTargets() {
    int[] targets = new int[labels.length];
    for (int b = 0; b < batchSize; b++) {
      int row = b * sequenceLength;
      System.arraycopy(labels, row + 1, targets, row, sequenceLength - 1);
      targets[row + sequenceLength - 1] = IGNORE_INDEX;
    }
    return targets;
  }

  /** The number of tokens that carry loss after the shift. */
  public int countedTargets() {
    int count = 0;
    for (int t : shiftedTargets()) {
      if (t != IGNORE_INDEX) {
        count++;
      }
    }
    return count;
  }

  private static void check(String name, int[] values, int n) {
    if (values == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    if (values.length != n) {
      throw new IllegalArgumentException(name + " has " + values.length + " values, expected batchSize * sequenceLength = " + n);
    }
  }

  private static int[] filled(int n, int value) {
    int[] a = new int[n];
    Arrays.fill(a, value);
    return a;
  }
}
