package io.github.lora4j.core.generate;

import java.util.Arrays;

/**
 * The tokens generated for one prompt (the stop token not included) and why generation ended.
 */
public record Generation(int[] tokens, StopReason stopReason) {

  public enum StopReason {
    /** The model produced one of the stop tokens. */
    STOP_TOKEN,
    /** {@code maxNewTokens} were generated. */
    MAX_NEW_TOKENS
  }

  public Generation {
    tokens = tokens.clone();
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Generation g && Arrays.equals(tokens, g.tokens) && stopReason == g.stopReason;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(tokens) + stopReason.hashCode();
  }

  @Override
  public String toString() {
    return "Generation" + Arrays.toString(tokens) + " " + stopReason;
  }
}
