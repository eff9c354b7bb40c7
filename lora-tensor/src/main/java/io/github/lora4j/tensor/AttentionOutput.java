package io.github.lora4j.tensor;

/**
 * The output of {@link Backend#attention}, {@code [B, T, Hq, D]}, and what the backend saved for the
 * backward (the CPU keeps the probabilities, a flash kernel the log-sum-exp per row); {@code saved} is
 * null where no backward follows ({@link Backend#cachedAttention}).
 */
public record AttentionOutput(Tensor out, Tensor saved) implements AutoCloseable {
  @Override
  public void close() {
    out.close();
    if (saved != null) {
      saved.close();
    }
  }
}
