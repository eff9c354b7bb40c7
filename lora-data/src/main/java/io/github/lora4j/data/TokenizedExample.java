package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * One example as token ids and Hugging Face labels ({@link TokenBatch#IGNORE_INDEX} on tokens that
 * carry no loss), after truncation.
 *
 * @param inputIds the token ids, at most {@code maxSequenceLength} of them
 * @param labels one per token: the token's id where it carries loss, else {@link
 *     TokenBatch#IGNORE_INDEX}
 * @param untruncatedLength the number of tokens before truncation
 * @param origin where the example was read from
 */
public record TokenizedExample(int[] inputIds, int[] labels, int untruncatedLength, Origin origin) {

  public TokenizedExample {
    Objects.requireNonNull(inputIds, "inputIds");
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(origin, "origin");
    if (labels.length != inputIds.length) {
      throw new IllegalArgumentException("labels has " + labels.length + " values, inputIds " + inputIds.length);
    }
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("an example needs at least one token");
    }
    if (untruncatedLength < inputIds.length) {
      throw new IllegalArgumentException("untruncatedLength " + untruncatedLength + " is less than the " + inputIds.length + " tokens kept");
    }
  }

  public int length() {
    return inputIds.length;
  }

  /** True when tokens were cut off the end. */
  public boolean truncated() {
    return untruncatedLength > inputIds.length;
  }

  /**
   * The tokens the loss is computed on: those with a label, except the first, which no token
   * predicts (labels are shifted by one inside the model).
   */
  public int lossTokens() {
    int n = 0;
    for (int i = 1; i < labels.length; i++) {
      if (labels[i] != TokenBatch.IGNORE_INDEX) {
        n++;
      }
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenizedExample t
        && Arrays.equals(inputIds, t.inputIds)
        && Arrays.equals(labels, t.labels)
        && untruncatedLength == t.untruncatedLength
        && origin.equals(t.origin);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(labels);
  }

  @Override
  public String toString() {
    return "TokenizedExample[" + origin + ", " + inputIds.length + " tokens" + (truncated() ? " (of " + untruncatedLength + ")" : "") + ", " + lossTokens() + " with loss]";
  }
}
