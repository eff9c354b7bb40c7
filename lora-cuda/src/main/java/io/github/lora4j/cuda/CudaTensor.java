package io.github.lora4j.cuda;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A tensor in device memory (a pointer from the backend's stream-ordered pool) or in page-locked
 * host memory ({@link #host()} not null, from cuMemAllocHost), or a view of either.
 */
final class CudaTensor implements Tensor {
  private final CudaBackend backend;
  private final long pointer;
  private final Shape shape;
  private final DType dtype;
  private final CudaTensor base;
  private final MemorySegment host;
  private boolean closed;

  CudaTensor(CudaBackend backend, long pointer, Shape shape, DType dtype, CudaTensor base) {
    this(backend, pointer, shape, dtype, base, null);
  }

  CudaTensor(CudaBackend backend, long pointer, Shape shape, DType dtype, CudaTensor base, MemorySegment host) {
    this.backend = backend;
    this.pointer = pointer;
    this.shape = shape;
    this.dtype = dtype;
    this.base = base;
    this.host = host;
  }

  /** The page-locked host memory of a host tensor (exactly its bytes), or null for a device tensor. */
  MemorySegment host() {
    pointer();
    return host;
  }

  /** The host memory without the use-after-close check, for freeing. */
  MemorySegment rawHost() {
    return host;
  }

  boolean isHost() {
    return host != null;
  }

  long pointer() {
    if (closed || (base != null && base.closed)) {
      throw new IllegalStateException("tensor " + shape + " " + dtype + " was used after it was closed");
    }
    return pointer;
  }

  /** The pointer without the use-after-close check, for freeing. */
  long rawPointer() {
    return pointer;
  }

  long bytes() {
    return shape.numel() * dtype.byteSize();
  }

  /** The tensor that owns a view's memory; null for an owner. */
  CudaTensor base() {
    return base;
  }

  boolean isView() {
    return base != null;
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
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (base == null) {
      backend.free(this);
    }
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    return "CudaTensor" + shape + " " + dtype + " on " + backend.device();
  }
}
