package io.github.lora4j.tensor;

/**
 * A dense, row-major tensor owned by one {@link Backend}. Tensors are created by backend ops and
 * released either by {@link #close()} or by the {@link Scope} that was open when they were made.
 */
public interface Tensor extends AutoCloseable {

  Shape shape();

  DType dtype();

  Backend backend();

  default Device device() {
    return backend().device();
  }

  default long numel() {
    return shape().numel();
  }

  default int dim(int i) {
    return shape().dim(i);
  }

  /** Frees the tensor's memory now. Idempotent. A view does not free its base's storage. */
  @Override
  void close();

  boolean isClosed();
}
