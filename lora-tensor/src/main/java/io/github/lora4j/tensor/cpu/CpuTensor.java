package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * A tensor of the CPU backend: a contiguous PyTorch tensor behind a DJL {@link NDArray} attached to
 * the backend's manager. A view made by {@link Backend#reshape} has its own NDArray over the same
 * storage; the storage's bytes are counted once and released when the last tensor over it closes,
 * which is also when PyTorch frees it.
 */
final class CpuTensor implements Tensor {
  private final CpuBackend backend;
  private final NDArray array;
  private final Shape shape;
  private final DType dtype;
  private final Storage storage;
  private boolean closed;

  private CpuTensor(CpuBackend backend, NDArray array, Shape shape, DType dtype, Storage storage) {
    this.backend = backend;
    this.array = array;
    this.shape = shape;
    this.dtype = dtype;
    this.storage = storage;
  }

  /** Wraps {@code array}, which must be contiguous and owned by no other tensor, and tracks it in the current scope. */
  static CpuTensor owning(CpuBackend backend, NDArray array, Shape shape, DType dtype) {
    Storage storage = new Storage(backend, shape.numel() * dtype.byteSize());
    return Scope.track(new CpuTensor(backend, array, shape, dtype, storage));
  }

  /** As {@link #owning}, for host-resident tensors whose bytes the backend does not count as device memory. */
  static CpuTensor uncounted(CpuBackend backend, NDArray array, Shape shape, DType dtype) {
    return Scope.track(new CpuTensor(backend, array, shape, dtype, new Storage(backend, 0)));
  }

  /** A tensor over the same storage as {@code this} with another shape. */
  CpuTensor view(Shape newShape) {
    NDArray reshaped = array().reshape(CpuBackend.djlShape(newShape));
    storage.retain();
    return Scope.track(new CpuTensor(backend, reshaped, newShape, dtype, storage));
  }

  /** A flat view of elements {@code [offset, offset + count)}; PyTorch's basic slicing of a contiguous tensor is a view. */
  CpuTensor slice(long offset, long count) {
    NDArray part;
    try (NDArray flat = array().reshape(shape.numel())) {
      part = flat.get(new ai.djl.ndarray.index.NDIndex("{}:{}", offset, offset + count));
    }
    storage.retain();
    return Scope.track(new CpuTensor(backend, part, Shape.of((int) count), dtype, storage));
  }

  /** The DJL array; throws when the tensor (or its backend) is closed. */
  NDArray array() {
    if (isClosed()) {
      throw new IllegalStateException("tensor " + shape + " " + dtype + " is closed");
    }
    return array;
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public Backend backend() {
    return backend;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    array.close();
    storage.release();
  }

  @Override
  public synchronized boolean isClosed() {
    return closed || array.isReleased();
  }

  @Override
  public String toString() {
    return "CpuTensor" + shape + " " + dtype + (isClosed() ? " (closed)" : "");
  }

  /** The memory under a tensor and its views: counted once, released with the last of them. */
  private static final class Storage {
    private final CpuBackend backend;
    private final long bytes;
    private int refs = 1;

    Storage(CpuBackend backend, long bytes) {
      this.backend = backend;
      this.bytes = bytes;
      backend.allocated(bytes);
    }

    synchronized void retain() {
      refs++;
    }

    synchronized void release() {
      if (--refs == 0) {
        backend.released(bytes);
      }
    }
  }
}
