package io.github.lora4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.DropoutMask;
import io.github.lora4j.tensor.DynamicQuantization;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Locale;

/**
 * The GPU backend: one CUDA device's primary context, one non-blocking stream, the device's
 * stream-ordered memory pool (freed memory stays in the pool, so steady-state steps allocate
 * nothing from the driver), cuBLAS for GEMMs and lora4j's kernels for everything else. Floats are
 * stored as F32, BF16 or F16 and every op accumulates in fp32. Not thread-safe: use it from one
 * thread.
 */
public final class CudaBackend implements Backend {
  private static final int ROW_BLOCK = 256;
  private static final int ELEMENTWISE_BLOCK = 256;
  private static final long STAGING_BYTES = 64L << 20;
  private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

  private final Device device;
  private final int cuDevice;
  private final long context;
  private final long stream;
  private final long cublas;
  private final Arena arena = Arena.ofShared();
  private final Kernels kernels;
  private final MemorySegment staging;
  private final MemorySegment scalars;
  private final MemorySegment allocOut;
  private final String description;
  private final long cublasWorkspace;
  private long stagingOffset;
  /** The 8-bit optimizer's two code tables on the device (512 floats), uploaded on first use; not counted as tensor memory. */
  private long quantizationCodes;
  private long currentBytes;
  private long peakBytes;
  private boolean closed;

  CudaBackend(int ordinal) {
    CudaDriver.init();
    int count = CudaDriver.deviceCount();
    if (ordinal >= count) {
      throw new CudaException("cuda:" + ordinal + " does not exist; this machine has " + count + " CUDA device(s)", CudaDriver.CUDA_ERROR_NO_DEVICE);
    }
    this.device = Device.cuda(ordinal);
    this.cuDevice = CudaDriver.device(ordinal);
    int major = CudaDriver.deviceAttribute(cuDevice, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    int minor = CudaDriver.deviceAttribute(cuDevice, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    String name = CudaDriver.deviceName(cuDevice);
    if (major < 8) {
      throw new CudaException(
          name + " has compute capability " + major + "." + minor + "; lora4j needs 8.0 or newer (Ampere, Ada or Hopper) for bf16", -1);
    }
    this.context = CudaDriver.primaryContextRetain(cuDevice);
    CudaDriver.setCurrentContext(context);
    this.stream = CudaDriver.streamCreate();
    long pool = CudaDriver.defaultMemoryPool(cuDevice);
    CudaDriver.setPoolReleaseThreshold(pool, Long.MAX_VALUE);
    long[] mem = CudaDriver.memoryInfo();
    this.description =
        String.format(
            Locale.ROOT,
            "%s (sm_%d%d, %.1f GiB, driver %d.%d, %s)",
            name,
            major,
            minor,
            mem[1] / (double) (1L << 30),
            CudaDriver.driverVersion() / 1000,
            CudaDriver.driverVersion() % 1000 / 10,
            Cublas.libraryName());
    this.kernels = new Kernels(arena, name + " (sm_" + major + minor + ")");
    this.cublas = Cublas.create(stream);
    this.allocOut = arena.allocate(JAVA_LONG);
    this.cublasWorkspace = rawAlloc(CUBLAS_WORKSPACE_BYTES);
    Cublas.setWorkspace(cublas, cublasWorkspace, CUBLAS_WORKSPACE_BYTES);
    this.staging = CudaDriver.memAllocHost(STAGING_BYTES);
    this.scalars = arena.allocate(16, 8);
  }

  @Override
  public Device device() {
    return device;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public long currentBytes() {
    return currentBytes;
  }

  @Override
  public long peakBytes() {
    return peakBytes;
  }

  @Override
  public void resetPeakBytes() {
    peakBytes = currentBytes;
  }

  @Override
  public void synchronize() {
    CudaDriver.streamSynchronize(stream);
  }

  // ---- memory ----

  private long rawAlloc(long bytes) {
    int rc = CudaDriver.memAllocAsync(allocOut, Math.max(bytes, 1), stream);
    if (rc == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) {
      long[] mem = CudaDriver.memoryInfo();
      throw new CudaOutOfMemoryException(
          String.format(
              Locale.ROOT,
              "out of GPU memory on %s: asked for %,d bytes with %,d free of %,d (lora4j holds %,d). Try a smaller batch size or sequence length, a 4-bit base model, or gradient checkpointing.",
              device,
              bytes,
              mem[0],
              mem[1],
              currentBytes));
    }
    CudaDriver.check(rc, "cuMemAllocAsync(" + bytes + " bytes)");
    return allocOut.get(JAVA_LONG, 0);
  }

  private CudaTensor allocate(Shape shape, DType dtype) {
    long bytes = shape.numel() * dtype.byteSize();
    CudaTensor t = new CudaTensor(this, rawAlloc(bytes), shape, dtype, null);
    currentBytes += bytes;
    peakBytes = Math.max(peakBytes, currentBytes);
    return Scope.track(t);
  }

  void free(CudaTensor t) {
    if (t.isHost()) {
      if (!closed) {
        // Copies queued on the stream may still read or write it.
        CudaDriver.streamSynchronize(stream);
        CudaDriver.memFreeHost(t.rawHost());
      }
      return;
    }
    if (!closed) {
      CudaDriver.memFreeAsync(t.rawPointer(), stream);
    }
    currentBytes -= t.bytes();
  }

  /** A device tensor: ops run on these only. */
  private static CudaTensor cuda(Tensor t, String op, String arg) {
    CudaTensor c = anyMemory(t, op, arg);
    if (c.isHost()) {
      throw new IllegalArgumentException(op + ": " + arg + " " + c.shape() + " is in pinned host memory; copy it to a device tensor with copyInto first");
    }
    return c;
  }

  /** A tensor of this backend in device or pinned host memory. */
  private static CudaTensor anyMemory(Tensor t, String op, String arg) {
    if (t instanceof CudaTensor c) {
      return c;
    }
    throw new IllegalArgumentException(op + ": " + arg + " is on " + (t == null ? "nothing (null)" : t.device()) + ", not on a CUDA device");
  }

  @Override
  public Tensor pinnedHost(Shape shape, DType dtype) {
    long bytes = shape.numel() * dtype.byteSize();
    MemorySegment host = CudaDriver.memAllocHost(Math.max(bytes, 1)).asSlice(0, bytes);
    host.fill((byte) 0);
    return Scope.track(new CudaTensor(this, host.address(), shape, dtype, null, host));
  }

  @Override
  public Tensor slice(Tensor t, long offset, long count) {
    CudaTensor c = anyMemory(t, "slice", "t");
    if (offset < 0 || count < 0 || offset + count > c.numel() || count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("slice: elements [" + offset + ", " + offset + " + " + count + ") are not within t " + c.shape() + " (" + c.numel() + " elements)");
    }
    long size = c.dtype().byteSize();
    CudaTensor base = c.isView() ? c.base() : c;
    MemorySegment host = c.isHost() ? c.host().asSlice(offset * size, count * size) : null;
    // Views are not tracked by scopes: closing one frees nothing.
    return new CudaTensor(this, c.pointer() + offset * size, Shape.of((int) count), c.dtype(), base, host);
  }

  // ---- creation and copies ----

  @Override
  public Tensor zeros(Shape shape, DType dtype) {
    CudaTensor t = allocate(shape, dtype);
    CudaDriver.memsetD8Async(t.pointer(), (byte) 0, t.bytes(), stream);
    return t;
  }

  @Override
  public Tensor fromFloats(float[] data, Shape shape, DType dtype) {
    checkCount("fromFloats", data.length, shape);
    if (!dtype.isFloatingPoint()) {
      throw new IllegalArgumentException("fromFloats: dtype must be F32, BF16 or F16: " + dtype);
    }
    return fromSegment(MemorySegment.ofArray(data), DType.F32, shape, dtype);
  }

  @Override
  public Tensor fromInts(int[] data, Shape shape) {
    checkCount("fromInts", data.length, shape);
    CudaTensor t = allocate(shape, DType.I32);
    upload(MemorySegment.ofArray(data), t.pointer(), t.bytes());
    return t;
  }

  @Override
  public Tensor fromSegment(MemorySegment src, DType srcType, Shape shape, DType dtype) {
    long bytes = shape.numel() * srcType.byteSize();
    if (src.byteSize() < bytes) {
      throw new IllegalArgumentException("fromSegment: " + src.byteSize() + " bytes given for " + shape + " " + srcType + " (" + bytes + " bytes)");
    }
    if (srcType == dtype) {
      CudaTensor t = allocate(shape, dtype);
      upload(src, t.pointer(), bytes);
      return t;
    }
    if (srcType == DType.I64 && dtype == DType.I32) {
      int[] narrowed = new int[shape.numelInt()];
      for (int i = 0; i < narrowed.length; i++) {
        long v = src.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
        if (v != (int) v) {
          throw new IllegalArgumentException("fromSegment: I64 value " + v + " at index " + i + " does not fit in I32");
        }
        narrowed[i] = (int) v;
      }
      return fromInts(narrowed, shape);
    }
    // Upload in the source dtype, then convert on the device.
    try (CudaTensor raw = allocateUntracked(shape, srcType)) {
      upload(src, raw.pointer(), bytes);
      CudaTensor t = allocate(shape, dtype);
      castInto(raw, t);
      return t;
    }
  }

  private CudaTensor allocateUntracked(Shape shape, DType dtype) {
    return Scope.detached(() -> allocate(shape, dtype));
  }

  /**
   * Copies host bytes to the device through a ring of pinned staging memory: the copy is queued
   * on the stream, and the ring is reused only after the stream has drained, so steady-state
   * uploads (a step's token ids) never wait.
   */
  private void upload(MemorySegment src, long devicePtr, long bytes) {
    long done = 0;
    while (done < bytes) {
      long chunk = Math.min(bytes - done, STAGING_BYTES);
      if (stagingOffset + chunk > STAGING_BYTES) {
        CudaDriver.streamSynchronize(stream);
        stagingOffset = 0;
      }
      MemorySegment.copy(src, done, staging, stagingOffset, chunk);
      CudaDriver.memcpyHtoDAsync(devicePtr + done, staging.asSlice(stagingOffset, chunk), chunk, stream);
      stagingOffset = (stagingOffset + chunk + 255) & ~255L;
      done += chunk;
    }
  }

  private void download(long devicePtr, MemorySegment dst, long bytes) {
    long done = 0;
    while (done < bytes) {
      long chunk = Math.min(bytes - done, STAGING_BYTES);
      CudaDriver.streamSynchronize(stream);
      CudaDriver.memcpyDtoHAsync(staging, devicePtr + done, chunk, stream);
      CudaDriver.streamSynchronize(stream);
      MemorySegment.copy(staging, 0, dst, done, chunk);
      done += chunk;
    }
    stagingOffset = 0;
  }

  @Override
  public void toSegment(Tensor t, MemorySegment dst) {
    CudaTensor c = anyMemory(t, "toSegment", "t");
    if (dst.byteSize() != c.bytes()) {
      throw new IllegalArgumentException("toSegment: dst holds " + dst.byteSize() + " bytes but t " + c.shape() + " " + c.dtype() + " has " + c.bytes());
    }
    if (c.isHost()) {
      CudaDriver.streamSynchronize(stream);
      MemorySegment.copy(c.host(), 0, dst, 0, c.bytes());
      return;
    }
    download(c.pointer(), dst, c.bytes());
  }

  @Override
  public float[] toFloats(Tensor t) {
    CudaTensor c = anyMemory(t, "toFloats", "t");
    if (!c.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("toFloats: tensor is " + c.dtype() + ", not a float type");
    }
    if (c.isHost()) {
      if (c.dtype() != DType.F32) {
        throw new IllegalArgumentException("toFloats: a pinned host tensor must be F32 to read as floats, not " + c.dtype());
      }
      float[] out = new float[c.shape().numelInt()];
      toSegment(c, MemorySegment.ofArray(out));
      return out;
    }
    float[] out = new float[c.shape().numelInt()];
    if (c.dtype() == DType.F32) {
      download(c.pointer(), MemorySegment.ofArray(out), c.bytes());
    } else {
      try (CudaTensor wide = allocateUntracked(c.shape(), DType.F32)) {
        castInto(c, wide);
        download(wide.pointer(), MemorySegment.ofArray(out), wide.bytes());
      }
    }
    return out;
  }

  @Override
  public int[] toInts(Tensor t) {
    CudaTensor c = cuda(t, "toInts", "t");
    if (c.dtype() != DType.I32) {
      throw new IllegalArgumentException("toInts: tensor is " + c.dtype() + ", not I32");
    }
    int[] out = new int[c.shape().numelInt()];
    download(c.pointer(), MemorySegment.ofArray(out), c.bytes());
    return out;
  }

  @Override
  public Tensor cast(Tensor t, DType dtype) {
    CudaTensor c = cuda(t, "cast", "t");
    CudaTensor out = allocate(c.shape(), dtype);
    castInto(c, out);
    return out;
  }

  private void castInto(CudaTensor src, CudaTensor dst) {
    if (src.dtype() == dst.dtype()) {
      CudaDriver.memcpyDtoDAsync(dst.pointer(), src.pointer(), src.bytes(), stream);
      return;
    }
    if (!src.dtype().isFloatingPoint() || !dst.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("cast: only float dtypes convert on the GPU: " + src.dtype() + " -> " + dst.dtype());
    }
    long n = src.numel();
    kernels.launch("cast_" + Kernels.suffix(src.dtype()) + "_" + Kernels.suffix(dst.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, dst, src, n);
  }

  @Override
  public Tensor reshape(Tensor t, Shape shape) {
    CudaTensor c = anyMemory(t, "reshape", "t");
    if (c.numel() != shape.numel()) {
      throw new IllegalArgumentException("reshape: " + c.shape() + " has " + c.numel() + " elements, " + shape + " has " + shape.numel());
    }
    // Views are not tracked by scopes: closing one frees nothing.
    return new CudaTensor(this, c.pointer(), shape, c.dtype(), c.isView() ? c.base() : c, c.isHost() ? c.host() : null);
  }

  @Override
  public void copyInto(Tensor src, Tensor dst) {
    CudaTensor s = anyMemory(src, "copyInto", "src");
    CudaTensor d = anyMemory(dst, "copyInto", "dst");
    if (s.numel() != d.numel()) {
      throw new IllegalArgumentException("copyInto: src " + s.shape() + " and dst " + d.shape() + " differ in element count");
    }
    if (!s.isHost() && !d.isHost()) {
      castInto(s, d);
      return;
    }
    if (s.dtype() != d.dtype()) {
      throw new IllegalArgumentException("copyInto: a copy to or from pinned host memory keeps the dtype: src " + s.dtype() + ", dst " + d.dtype());
    }
    if (s.isHost() && d.isHost()) {
      CudaDriver.streamSynchronize(stream);
      MemorySegment.copy(s.host(), 0, d.host(), 0, s.bytes());
    } else if (s.isHost()) {
      // Page-locked memory makes these truly asynchronous: the copy runs in stream order.
      CudaDriver.memcpyHtoDAsync(d.pointer(), s.host(), s.bytes(), stream);
    } else {
      CudaDriver.memcpyDtoHAsync(d.host(), s.pointer(), s.bytes(), stream);
    }
  }

  @Override
  public void zeroInPlace(Tensor t) {
    CudaTensor c = anyMemory(t, "zeroInPlace", "t");
    if (c.isHost()) {
      CudaDriver.streamSynchronize(stream);
      c.host().fill((byte) 0);
      return;
    }
    CudaDriver.memsetD8Async(c.pointer(), (byte) 0, c.bytes(), stream);
  }

  // ---- elementwise ----

  @Override
  public Tensor add(Tensor a, Tensor b) {
    CudaTensor x = floats(a, "add", "a");
    CudaTensor y = same(b, x, "add", "b");
    CudaTensor out = allocate(x.shape(), x.dtype());
    long n = x.numel();
    kernels.launch(Kernels.name("add", x.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, out, x, y, n);
    return out;
  }

  @Override
  public void addInPlace(Tensor acc, Tensor x) {
    CudaTensor a = floats(acc, "addInPlace", "acc");
    CudaTensor b = sameCount(x, a, "addInPlace", "x");
    long n = a.numel();
    kernels.launch(Kernels.name("add_inplace", a.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, a, b, n);
  }

  @Override
  public void scaleInPlace(Tensor x, float alpha) {
    CudaTensor a = floats(x, "scaleInPlace", "x");
    long n = a.numel();
    kernels.launch(Kernels.name("scale_inplace", a.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, a, alpha, n);
  }

  @Override
  public void axpy(float alpha, Tensor x, Tensor y) {
    CudaTensor b = floats(y, "axpy", "y");
    CudaTensor a = sameCount(x, b, "axpy", "x");
    long n = b.numel();
    kernels.launch(Kernels.name("axpy", b.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, alpha, a, b, n);
  }

  @Override
  public Tensor sumOfSquares(Tensor x) {
    CudaTensor a = floats(x, "sumOfSquares", "x");
    CudaTensor out = (CudaTensor) zeros(Shape.of(), DType.F32);
    long n = a.numel();
    kernels.launch(Kernels.name("sum_squares", a.dtype()), stream, Math.min(grid(n), 1024), ELEMENTWISE_BLOCK, out, a, n);
    return out;
  }

  // ---- GEMM ----

  @Override
  public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta, Tensor c) {
    CudaTensor ta = floats(a, "gemm", "a");
    CudaTensor tb = floats(b, "gemm", "b");
    CudaTensor tc = floats(c, "gemm", "c");
    int rank = ta.shape().rank();
    if (rank != tb.shape().rank() || rank != tc.shape().rank() || rank < 2 || rank > 3) {
      throw new IllegalArgumentException("gemm: operands must all be 2-D or all 3-D: a " + ta.shape() + ", b " + tb.shape() + ", c " + tc.shape());
    }
    int batch = rank == 3 ? ta.dim(0) : 1;
    if (rank == 3 && (tb.dim(0) != batch || tc.dim(0) != batch)) {
      throw new IllegalArgumentException("gemm: batch dims differ: a " + ta.shape() + ", b " + tb.shape() + ", c " + tc.shape());
    }
    int ar = ta.dim(-2), ac = ta.dim(-1), br = tb.dim(-2), bc = tb.dim(-1);
    int m = transA ? ac : ar;
    int k = transA ? ar : ac;
    int kb = transB ? bc : br;
    int n = transB ? br : bc;
    if (k != kb || tc.dim(-2) != m || tc.dim(-1) != n) {
      throw new IllegalArgumentException(
          "gemm: shapes do not chain: op(a) is [" + m + ", " + k + "], op(b) [" + kb + ", " + n + "], c " + tc.shape());
    }
    // cuBLAS wants A and B of one type: a mixed pair (fp32 LoRA weights with bf16 activations) runs in the narrower type.
    CudaTensor castA = null;
    CudaTensor castB = null;
    try {
      if (ta.dtype() != tb.dtype()) {
        if (ta.dtype() == DType.F32) {
          castA = narrow(ta, tb.dtype());
          ta = castA;
        } else {
          castB = narrow(tb, ta.dtype());
          tb = castB;
        }
      }
      if (ta.dtype() != tc.dtype() && tc.dtype() != DType.F32) {
        throw new IllegalArgumentException("gemm: c must be " + ta.dtype() + " or F32 for " + ta.dtype() + " inputs, not " + tc.dtype());
      }
      scalars.set(JAVA_FLOAT, 0, alpha);
      scalars.set(JAVA_FLOAT, 4, beta);
      // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
      int opB = transB ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
      int opA = transA ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
      if (batch == 1) {
        Cublas.gemmEx(
            cublas, opB, opA, n, m, k, scalars.asSlice(0, 4), tb.pointer(), type(tb), bc, ta.pointer(), type(ta), ac, scalars.asSlice(4, 4), tc.pointer(), type(tc), n);
      } else {
        Cublas.gemmStridedBatchedEx(
            cublas, opB, opA, n, m, k, scalars.asSlice(0, 4), tb.pointer(), type(tb), bc, (long) br * bc, ta.pointer(), type(ta), ac, (long) ar * ac,
            scalars.asSlice(4, 4), tc.pointer(), type(tc), n, (long) m * n, batch);
      }
    } finally {
      if (castA != null) {
        castA.close();
      }
      if (castB != null) {
        castB.close();
      }
    }
  }

  private CudaTensor narrow(CudaTensor t, DType dtype) {
    CudaTensor out = allocateUntracked(t.shape(), dtype);
    castInto(t, out);
    return out;
  }

  private static int type(CudaTensor t) {
    return switch (t.dtype()) {
      case F32 -> Cublas.CUDA_R_32F;
      case BF16 -> Cublas.CUDA_R_16BF;
      case F16 -> Cublas.CUDA_R_16F;
      default -> throw new IllegalArgumentException("gemm: no GEMM for dtype " + t.dtype());
    };
  }

  @Override
  public Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
    Shape sa = a.shape();
    Shape sb = b.shape();
    if (sa.rank() < 2 || sb.rank() < 2) {
      throw new IllegalArgumentException("matmul: operands must be at least 2-D: a " + sa + ", b " + sb);
    }
    int m = transA ? sa.dim(-1) : sa.dim(-2);
    int n = transB ? sb.dim(-2) : sb.dim(-1);
    DType outType = a.dtype() == DType.F32 && b.dtype() == DType.F32 ? DType.F32 : (a.dtype() == DType.F32 ? b.dtype() : a.dtype());
    Shape out = sa.rank() == 3 ? Shape.of(sa.dim(0), m, n) : Shape.of(m, n);
    CudaTensor c = allocate(out, outType);
    gemm(a, transA, b, transB, 1f, 0f, c);
    return c;
  }

  @Override
  public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    Tensor out = matmul(x, false, weight, true);
    if (bias != null) {
      CudaTensor o = (CudaTensor) out;
      CudaTensor bb = same(bias, o, "linear", "bias");
      if (bb.numel() != o.dim(-1)) {
        throw new IllegalArgumentException("linear: bias has " + bb.numel() + " elements for " + o.dim(-1) + " outputs");
      }
      long rows = o.numel() / o.dim(-1);
      kernels.launch(Kernels.name("bias_add", o.dtype()), stream, grid(o.numel()), ELEMENTWISE_BLOCK, o, bb, rows, o.dim(-1));
    }
    return out;
  }

  // ---- layers ----

  @Override
  public Tensor embedding(Tensor table, Tensor ids) {
    CudaTensor tab = floats(table, "embedding", "table");
    CudaTensor idx = ints(ids, "embedding", "ids");
    int n = idx.shape().numelInt();
    int d = tab.dim(1);
    CudaTensor out = allocate(Shape.of(n, d), tab.dtype());
    // Ids are checked on the host by the model before upload; the kernel trusts them.
    kernels.launch(Kernels.name("embedding_forward", tab.dtype()), stream, n, ROW_BLOCK, out, tab, idx, n, d);
    return out;
  }

  @Override
  public NormOutput rmsNorm(Tensor x, Tensor weight, float eps) {
    CudaTensor tx = floats(x, "rmsNorm", "x");
    int d = tx.dim(-1);
    int n = (int) (tx.numel() / d);
    CudaTensor w = same(weight, tx, "rmsNorm", "weight");
    CudaTensor out = allocate(tx.shape(), tx.dtype());
    CudaTensor rstd = allocate(Shape.of(n), DType.F32);
    kernels.launch(Kernels.name("rmsnorm_forward", tx.dtype()), stream, n, ROW_BLOCK, out, rstd, tx, w, n, d, eps);
    return new NormOutput(out, rstd);
  }

  @Override
  public Tensor rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor rstd) {
    CudaTensor tx = floats(x, "rmsNormBackward", "x");
    CudaTensor dy = same(dOut, tx, "rmsNormBackward", "dOut");
    int d = tx.dim(-1);
    int n = (int) (tx.numel() / d);
    CudaTensor dx = allocate(tx.shape(), tx.dtype());
    kernels.launch(
        Kernels.name("rmsnorm_backward", tx.dtype()), stream, n, ROW_BLOCK, dx, dy, tx, same(weight, tx, "rmsNormBackward", "weight"),
        cuda(rstd, "rmsNormBackward", "rstd"), n, d);
    return dx;
  }

  @Override
  public void ropeInPlace(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    CudaTensor tx = floats(x, "rope", "x");
    if (tx.shape().rank() != 3) {
      throw new IllegalArgumentException("rope: x must be [N, heads, headDim]: " + tx.shape());
    }
    int n = tx.dim(0);
    kernels.launch(
        Kernels.name("rope", tx.dtype()), stream, n, ROW_BLOCK, tx, ints(positions, "rope", "positions"), cuda(invFreq, "rope", "invFreq"), n, tx.dim(1),
        tx.dim(2), inverse ? 1 : 0);
  }

  /** BF16: tensor-core GEMMs at full rate and half the memory of fp32, as transformers' bf16 training. */
  @Override
  public DType defaultComputeType() {
    return DType.BF16;
  }

  @Override
  public AttentionOutput attention(Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    CudaTensor tq = floats(q, "attention", "q");
    AttentionDims dims = AttentionDims.of(tq, k, v);
    DType dt = tq.dtype();
    try (Scope tmp = Scope.open()) {
      CudaTensor qh = pack(tq, dims.heads(), dims);
      CudaTensor kh = pack((CudaTensor) k, dims.heads(), dims);
      CudaTensor vh = pack((CudaTensor) v, dims.heads(), dims);
      int bh = dims.batch() * dims.heads();
      CudaTensor scores = allocate(Shape.of(bh, dims.seq(), dims.seq()), DType.F32);
      gemm(qh, false, kh, true, 1f, 0f, scores);
      CudaTensor probs = tmp.keep(allocate(Shape.of(bh, dims.seq(), dims.seq()), dt));
      kernels.launch(
          Kernels.name("attention_softmax_forward", dt), stream, bh * dims.seq(), 128, probs, scores, segmentsOrNull(segments), dims.batch(), dims.heads(),
          dims.seq(), scale);
      CudaTensor oh = allocate(Shape.of(bh, dims.seq(), dims.headDim()), dt);
      gemm(probs, false, vh, false, 1f, 0f, oh);
      CudaTensor out = tmp.keep(unpack(oh, dims.heads(), dims));
      return new AttentionOutput(out, probs);
    }
  }

  @Override
  public AttentionGrads attentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, AttentionOutput forward) {
    CudaTensor tq = floats(q, "attentionBackward", "q");
    AttentionDims dims = AttentionDims.of(tq, k, v);
    DType dt = tq.dtype();
    CudaTensor probs = cuda(forward.saved(), "attentionBackward", "forward.saved");
    try (Scope tmp = Scope.open()) {
      CudaTensor qh = pack(tq, dims.heads(), dims);
      CudaTensor kh = pack((CudaTensor) k, dims.heads(), dims);
      CudaTensor vh = pack((CudaTensor) v, dims.heads(), dims);
      CudaTensor doh = pack(same(dOut, tq, "attentionBackward", "dOut"), dims.heads(), dims);
      int bh = dims.batch() * dims.heads();
      CudaTensor dprobs = allocate(Shape.of(bh, dims.seq(), dims.seq()), DType.F32);
      gemm(doh, false, vh, true, 1f, 0f, dprobs);
      CudaTensor dscores = allocate(Shape.of(bh, dims.seq(), dims.seq()), dt);
      kernels.launch(
          Kernels.name("attention_softmax_backward", dt), stream, bh * dims.seq(), 128, dscores, probs, dprobs, dims.batch(), dims.heads(), dims.seq(), scale);
      CudaTensor dqh = allocate(qh.shape(), dt);
      gemm(dscores, false, kh, false, 1f, 0f, dqh);
      CudaTensor dkh = allocate(kh.shape(), dt);
      gemm(dscores, true, qh, false, 1f, 0f, dkh);
      CudaTensor dvh = allocate(vh.shape(), dt);
      gemm(probs, true, doh, false, 1f, 0f, dvh);
      CudaTensor dq = tmp.keep(unpack(dqh, dims.heads(), dims));
      CudaTensor dk = tmp.keep(unpack(dkh, dims.kvHeads(), dims));
      CudaTensor dv = tmp.keep(unpack(dvh, dims.kvHeads(), dims));
      return new AttentionGrads(dq, dk, dv);
    }
  }

  @Override
  public Tensor cachedAttention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor keyMask, int start, float scale) {
    String op = "cachedAttention";
    CudaTensor tq = floats(q, op, "q");
    CudaTensor kc = same(kCache, tq, op, "kCache");
    CudaTensor vc = same(vCache, tq, op, "vCache");
    CudaTensor tk = same(k, tq, op, "k");
    CudaTensor tv = same(v, tq, op, "v");
    CudaTensor mask = ints(keyMask, op, "keyMask");
    if (tq.shape().rank() != 4 || kc.shape().rank() != 4) {
      throw new IllegalArgumentException(op + ": q " + tq.shape() + " and kCache " + kc.shape() + " must be [B, Tq, Hq, D] and [B, Tmax, Hkv, D]");
    }
    int b = tq.dim(0);
    int tqLen = tq.dim(1);
    int hq = tq.dim(2);
    int d = tq.dim(3);
    int tmax = kc.dim(1);
    int hkv = kc.dim(2);
    Shape kvShape = Shape.of(b, tqLen, hkv, d);
    if (!tk.shape().equals(kvShape) || !tv.shape().equals(kvShape) || !vc.shape().equals(kc.shape()) || kc.dim(0) != b || kc.dim(3) != d) {
      throw new IllegalArgumentException(op + ": k, v " + tk.shape() + " must be " + kvShape + " and the caches " + kc.shape() + " [B, Tmax, Hkv, D] for q " + tq.shape());
    }
    if (hq % hkv != 0) {
      throw new IllegalArgumentException(op + ": kCache has " + hkv + " kv heads, which does not divide q's " + hq + " heads");
    }
    if (!mask.shape().equals(Shape.of(b, tmax))) {
      throw new IllegalArgumentException(op + ": keyMask " + mask.shape() + " must be [" + b + ", " + tmax + "]");
    }
    if (start < 0 || start + tqLen > tmax) {
      throw new IllegalArgumentException(op + ": positions [" + start + ", " + (start + tqLen) + ") do not fit the cache of " + tmax + " positions");
    }
    if (d > 512) {
      throw new IllegalArgumentException(op + ": head dim " + d + " is over the kernel's 512");
    }
    DType dt = tq.dtype();
    long n = tk.numel();
    for (CudaTensor[] pair : new CudaTensor[][] {{kc, tk}, {vc, tv}}) {
      kernels.launch(Kernels.name("kv_cache_write", dt), stream, grid(n), ELEMENTWISE_BLOCK, pair[0], pair[1], b, tqLen, tmax, hkv, d, start);
    }
    long rows = (long) b * tqLen * hq;
    CudaTensor out = allocate(tq.shape(), dt);
    try (Scope tmp = Scope.open()) {
      CudaTensor scores = allocate(Shape.of((int) rows, tmax), DType.F32);
      kernels.launch(
          Kernels.name("attention_cached", dt), stream, (int) Math.min(rows, Integer.MAX_VALUE), 128, out, tq, kc, vc, mask, scores, b, tqLen, tmax, hq,
          hkv, d, start, scale);
    }
    return out;
  }

  private CudaTensor segmentsOrNull(Tensor segments) {
    return segments == null ? null : ints(segments, "attention", "segments");
  }

  /** [B, T, H, D] (H heads) to [B, heads, T, D], repeating kv heads for grouped-query attention. */
  private CudaTensor pack(CudaTensor src, int heads, AttentionDims dims) {
    int hSrc = src.dim(2);
    CudaTensor dst = allocate(Shape.of(dims.batch() * heads, dims.seq(), dims.headDim()), src.dtype());
    long n = dst.numel();
    kernels.launch(Kernels.name("attention_pack", src.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, dst, src, dims.batch(), dims.seq(), hSrc, heads, dims.headDim());
    return dst;
  }

  /** [B, H, T, D] back to [B, T, heads, D], summing the query heads of each group when heads < H. */
  private CudaTensor unpack(CudaTensor src, int heads, AttentionDims dims) {
    CudaTensor dst = allocate(Shape.of(dims.batch(), dims.seq(), heads, dims.headDim()), src.dtype());
    long n = dst.numel();
    kernels.launch(
        Kernels.name("attention_unpack", src.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, dst, src, dims.batch(), dims.seq(), heads, dims.heads(), dims.headDim());
    return dst;
  }

  @Override
  public Tensor swiglu(Tensor gate, Tensor up) {
    CudaTensor g = floats(gate, "swiglu", "gate");
    CudaTensor u = same(up, g, "swiglu", "up");
    CudaTensor out = allocate(g.shape(), g.dtype());
    long n = g.numel();
    kernels.launch(Kernels.name("swiglu_forward", g.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, out, g, u, n);
    return out;
  }

  @Override
  public Tensor[] swigluBackward(Tensor dOut, Tensor gate, Tensor up) {
    CudaTensor g = floats(gate, "swigluBackward", "gate");
    CudaTensor u = same(up, g, "swigluBackward", "up");
    CudaTensor dy = same(dOut, g, "swigluBackward", "dOut");
    CudaTensor dg = allocate(g.shape(), g.dtype());
    CudaTensor du = allocate(g.shape(), g.dtype());
    long n = g.numel();
    kernels.launch(Kernels.name("swiglu_backward", g.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, dg, du, dy, g, u, n);
    return new Tensor[] {dg, du};
  }

  @Override
  public Tensor dropout(Tensor x, float p, long seed) {
    CudaTensor tx = floats(x, "dropout", "x");
    long threshold = DropoutMask.threshold(p);
    CudaTensor out = allocate(tx.shape(), tx.dtype());
    long n = tx.numel();
    kernels.launch(Kernels.name("dropout", tx.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, out, tx, n, seed, threshold, 1f / (1f - p));
    return out;
  }

  @Override
  public Tensor crossEntropySum(Tensor logits, Tensor labels, int ignoreIndex) {
    CudaTensor lg = floats(logits, "crossEntropySum", "logits");
    CudaTensor lb = ints(labels, "crossEntropySum", "labels");
    int n = lg.dim(0);
    int vocab = lg.dim(1);
    try (CudaTensor rows = allocateUntracked(Shape.of(n), DType.F32)) {
      kernels.launch(Kernels.name("cross_entropy_forward", lg.dtype()), stream, n, ROW_BLOCK, rows, lg, lb, n, vocab, ignoreIndex);
      CudaTensor sum = (CudaTensor) zeros(Shape.of(), DType.F32);
      kernels.launch("sum_f32", stream, Math.min(grid(n), 1024), ELEMENTWISE_BLOCK, sum, rows, (long) n);
      return sum;
    }
  }

  @Override
  public Tensor crossEntropyBackward(Tensor logits, Tensor labels, int ignoreIndex, float scale) {
    CudaTensor lg = floats(logits, "crossEntropyBackward", "logits");
    CudaTensor lb = ints(labels, "crossEntropyBackward", "labels");
    int n = lg.dim(0);
    int vocab = lg.dim(1);
    CudaTensor d = allocate(lg.shape(), lg.dtype());
    kernels.launch(Kernels.name("cross_entropy_backward", lg.dtype()), stream, n, ROW_BLOCK, d, lg, lb, n, vocab, ignoreIndex, scale);
    return d;
  }

  // ---- optimizer steps ----

  @Override
  public Tensor sumOfSquares(List<? extends Tensor> xs) {
    CudaTensor out = (CudaTensor) zeros(Shape.of(), DType.F32);
    // sum_squares accumulates into *out, so every tensor adds to the same scalar: one pass each.
    for (int i = 0; i < xs.size(); i++) {
      CudaTensor x = floats(xs.get(i), "sumOfSquares", "xs[" + i + "]");
      long n = x.numel();
      kernels.launch(Kernels.name("sum_squares", x.dtype()), stream, Math.min(grid(n), 1024), ELEMENTWISE_BLOCK, out, x, n);
    }
    return out;
  }

  @Override
  public void clipByNormInPlace(List<? extends Tensor> xs, Tensor sumOfSquares, float maxNorm) {
    CudaTensor ss = cuda(sumOfSquares, "clipByNormInPlace", "sumOfSquares");
    if (ss.dtype() != DType.F32 || ss.numel() != 1) {
      throw new IllegalArgumentException("clipByNormInPlace: sumOfSquares must be an F32 scalar, not " + ss.shape() + " " + ss.dtype());
    }
    for (int i = 0; i < xs.size(); i++) {
      CudaTensor x = floats(xs.get(i), "clipByNormInPlace", "xs[" + i + "]");
      long n = x.numel();
      kernels.launch(Kernels.name("clip_by_norm", x.dtype()), stream, grid(n), ELEMENTWISE_BLOCK, x, ss, maxNorm, n);
    }
  }

  @Override
  public void adamwStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, double lr, double beta1, double beta2,
      double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    String op = "adamwStep";
    CudaTensor p = state(param, param, op, "param");
    CudaTensor g = state(grad, param, op, "grad");
    CudaTensor m = state(expAvg, param, op, "expAvg");
    CudaTensor v = state(expAvgSq, param, op, "expAvgSq");
    CudaTensor vMax = maxExpAvgSq == null ? null : state(maxExpAvgSq, param, op, "maxExpAvgSq");
    long n = p.numel();
    // The constants Backend's javadoc names, each rounded from its double once.
    kernels.launch("adamw_step_f32", stream, grid(n), ELEMENTWISE_BLOCK, p, g, m, v, vMax, n, (float) (1 - lr * weightDecay), (float) (1 - beta1),
        (float) beta2, (float) (1 - beta2), (float) Math.sqrt(biasCorrection2), (float) eps, (float) -(lr / biasCorrection1), gradScale);
  }

  @Override
  public void adamw8bitStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgAbsmax, Tensor expAvgSq, Tensor expAvgSqAbsmax, double lr, double beta1,
      double beta2, double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    String op = "adamw8bitStep";
    CudaTensor p = state(param, param, op, "param");
    CudaTensor g = state(grad, param, op, "grad");
    CudaTensor mq = codes(expAvg, param, op, "expAvg");
    CudaTensor vq = codes(expAvgSq, param, op, "expAvgSq");
    CudaTensor mAbs = scales(expAvgAbsmax, param, op, "expAvgAbsmax");
    CudaTensor vAbs = scales(expAvgSqAbsmax, param, op, "expAvgSqAbsmax");
    long n = p.numel();
    long blocks = DynamicQuantization.blocks(n);
    int grid = (int) Math.min(blocks, 65_535L * 8);
    kernels.launch("adamw8bit_step_f32", stream, grid, DynamicQuantization.BLOCK_SIZE, p, g, mq, mAbs, vq, vAbs, quantizationCodes(), n,
        (float) (1 - lr * weightDecay), (float) (1 - beta1), (float) beta2, (float) (1 - beta2), (float) Math.sqrt(biasCorrection2), (float) eps,
        (float) -(lr / biasCorrection1), gradScale);
  }

  private long quantizationCodes() {
    if (quantizationCodes == 0) {
      float[] codes = new float[512];
      System.arraycopy(DynamicQuantization.signedCode(), 0, codes, 0, 256);
      System.arraycopy(DynamicQuantization.unsignedCode(), 0, codes, 256, 256);
      quantizationCodes = rawAlloc(512 * 4);
      upload(MemorySegment.ofArray(codes), quantizationCodes, 512 * 4);
    }
    return quantizationCodes;
  }

  private static CudaTensor codes(Tensor t, Tensor param, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    if (c.dtype() != DType.U8 || c.numel() != param.numel()) {
      throw new IllegalArgumentException(op + ": " + arg + " must be U8 with the " + param.numel() + " elements of param " + param.shape() + ", not " + c.shape() + " " + c.dtype());
    }
    return c;
  }

  private static CudaTensor scales(Tensor t, Tensor param, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    long blocks = DynamicQuantization.blocks(param.numel());
    if (c.dtype() != DType.F32 || c.numel() != blocks) {
      throw new IllegalArgumentException(op + ": " + arg + " must be F32 with one entry per block of " + DynamicQuantization.BLOCK_SIZE + " elements of param "
          + param.shape() + " (" + blocks + "), not " + c.shape() + " " + c.dtype());
    }
    return c;
  }

  @Override
  public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum, double dampening, double weightDecay,
      boolean nesterov, boolean firstStep, float gradScale) {
    String op = "sgdStep";
    CudaTensor p = state(param, param, op, "param");
    CudaTensor g = state(grad, param, op, "grad");
    if (momentum != 0 && momentumBuffer == null) {
      throw new IllegalArgumentException(op + ": momentumBuffer must not be null when momentum is " + momentum);
    }
    CudaTensor buf = momentum == 0 ? null : state(momentumBuffer, param, op, "momentumBuffer");
    int flags = (weightDecay != 0 ? 1 : 0) | (momentum != 0 ? 2 : 0) | (nesterov ? 4 : 0) | (firstStep ? 8 : 0);
    long n = p.numel();
    kernels.launch("sgd_step_f32", stream, grid(n), ELEMENTWISE_BLOCK, p, g, buf, n, (float) weightDecay, (float) momentum, (float) (1 - dampening),
        (float) -lr, flags, gradScale);
  }

  /** An F32 tensor with the element count of {@code param}, as every optimizer state is. */
  private static CudaTensor state(Tensor t, Tensor param, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    if (c.dtype() != DType.F32) {
      throw new IllegalArgumentException(op + ": " + arg + " must be F32, not " + c.dtype());
    }
    if (c.numel() != param.numel()) {
      throw new IllegalArgumentException(op + ": " + arg + " " + c.shape() + " must have the " + param.numel() + " elements of param " + param.shape());
    }
    return c;
  }

  // ---- argument checks ----

  private static CudaTensor floats(Tensor t, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    if (!c.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": " + arg + " must be a float tensor, not " + c.dtype());
    }
    return c;
  }

  private static CudaTensor ints(Tensor t, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    if (c.dtype() != DType.I32) {
      throw new IllegalArgumentException(op + ": " + arg + " must be I32, not " + c.dtype());
    }
    return c;
  }

  private static CudaTensor same(Tensor t, CudaTensor like, String op, String arg) {
    CudaTensor c = cuda(t, op, arg);
    if (c.dtype() != like.dtype()) {
      throw new IllegalArgumentException(op + ": " + arg + " is " + c.dtype() + " but the input is " + like.dtype());
    }
    return c;
  }

  private static CudaTensor sameCount(Tensor t, CudaTensor like, String op, String arg) {
    CudaTensor c = same(t, like, op, arg);
    if (c.numel() != like.numel()) {
      throw new IllegalArgumentException(op + ": " + arg + " " + c.shape() + " does not match " + like.shape());
    }
    return c;
  }

  private static void checkCount(String op, int length, Shape shape) {
    if (length != shape.numel()) {
      throw new IllegalArgumentException(op + ": " + length + " values for shape " + shape + " (" + shape.numel() + " elements)");
    }
  }

  private static int grid(long n) {
    return (int) Math.min((n + ELEMENTWISE_BLOCK - 1) / ELEMENTWISE_BLOCK, 65_535L * 8);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    CudaDriver.streamSynchronize(stream);
    CudaDriver.memFreeAsync(cublasWorkspace, stream);
    if (quantizationCodes != 0) {
      CudaDriver.memFreeAsync(quantizationCodes, stream);
    }
    Cublas.destroy(cublas);
    CudaDriver.memFreeHost(staging);
    CudaDriver.streamSynchronize(stream);
    CudaDriver.streamDestroy(stream);
    closed = true;
    CudaDriver.primaryContextRelease(cuDevice);
    arena.close();
  }
}
