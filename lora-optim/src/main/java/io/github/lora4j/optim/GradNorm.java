package io.github.lora4j.optim;

import io.github.lora4j.tensor.Tensor;

/**
 * The global norm of the gradients of one step, before clipping and after dividing out the loss
 * scale: {@code sqrt(sum of squares) / lossScale}. The sum of squares stays on the device ({@link
 * #sumOfSquares()}) until {@link #value()} reads it, the one host synchronisation, which is cached.
 * The optimizer frees the device scalar at its next step: read the value before then.
 */
public final class GradNorm {
  private final Tensor sumOfSquares;
  private final double unscale;
  private double value = Double.NaN;
  private boolean read;

  GradNorm(Tensor sumOfSquares, double unscale) {
    this.sumOfSquares = sumOfSquares;
    this.unscale = unscale;
  }

  /** The F32 [] device scalar holding the sum of squares of the (loss-scaled) gradients. */
  public Tensor sumOfSquares() {
    return sumOfSquares;
  }

  /**
   * The norm, read from the device the first time (waits for queued work).
   *
   * @throws IllegalStateException when the optimizer has moved on without the norm being read
   */
  public double value() {
    if (!read) {
      if (sumOfSquares.isClosed()) {
        throw new IllegalStateException("the gradient norm of a past step was freed before it was read; read it before the next step");
      }
      value = Math.sqrt(sumOfSquares.backend().toFloats(sumOfSquares)[0]) * unscale;
      read = true;
    }
    return value;
  }

  /** True when {@link #value()} has been read. */
  public boolean isRead() {
    return read;
  }

  void close() {
    sumOfSquares.close();
  }

  @Override
  public String toString() {
    return read ? Double.toString(value) : "GradNorm(not read)";
  }
}
