package io.github.lora4j.tensor;

/**
 * The output of {@link Backend#attention}, {@code [B, T, Hq, D]}, and what the backend saved for the
 * backward (the CPU keeps the probabilities, a flash kernel the log-sum-exp per row).
 */
public record AttentionOutput(Tensor out, Tensor saved) implements AutoCloseable {
  @Override
  public void close() {
    out.close();
    saved.close();
  }
}
