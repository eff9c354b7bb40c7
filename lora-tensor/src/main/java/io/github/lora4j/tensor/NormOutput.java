package io.github.lora4j.tensor;

/** The output of {@link Backend#rmsNorm} and the reciprocal RMS per row it saved for the backward. */
public record NormOutput(Tensor out, Tensor rstd) implements AutoCloseable {
  @Override
  public void close() {
    out.close();
    rstd.close();
  }
}
