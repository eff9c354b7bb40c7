package io.github.lora4j.tensor.cpu;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link Backend} on the CPU: every op in fp32 on DJL's PyTorch engine, each layer's forward and
 * backward in its own class ({@link RmsNorm}, {@link Rope}, {@link Attention}, ...).
 *
 * <p>Precision: the CPU computes and stores floats in fp32 only. Asking for BF16 or F16 ({@link
 * #fromFloats}, {@link #fromSegment}, {@link #cast}, {@link #zeros}) gives an F32 tensor whose values
 * are rounded to nearest-even in that format, so it holds exactly the numbers a BF16 or F16 tensor
 * would; its {@link Tensor#dtype()} is F32. I64 data becomes I32 tensors (values must fit). U8 is
 * stored as U8.
 *
 * <p>Memory: each op frees its intermediates before it returns ({@link OpFrame}); a tensor's memory
 * is freed by {@link Tensor#close()} or its {@link io.github.lora4j.tensor.Scope}. An op borrows its
 * inputs' arrays while it runs, so two threads must not run ops on the same tensor at once.
 */
final class CpuBackend implements Backend {
  private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final NDManager manager;
  private final String description;
  private final AtomicLong currentBytes = new AtomicLong();
  private final AtomicLong peakBytes = new AtomicLong();
  private volatile boolean closed;

  CpuBackend() {
    Engine engine = Engine.getEngine("PyTorch");
    this.manager = engine.newBaseManager(ai.djl.Device.cpu());
    this.description = "cpu: fp32 on PyTorch " + engine.getVersion() + " (DJL " + Engine.getDjlVersion() + "), "
        + Runtime.getRuntime().availableProcessors() + " cores";
  }

  @Override
  public Device device() {
    return Device.cpu();
  }

  @Override
  public String describe() {
    return description;
  }

  // ---- memory ----

  NDManager manager() {
    if (closed) {
      throw new IllegalStateException("the CPU backend is closed");
    }
    return manager;
  }

  OpFrame frame() {
    return new OpFrame(this);
  }

  void allocated(long bytes) {
    long now = currentBytes.addAndGet(bytes);
    peakBytes.accumulateAndGet(now, Math::max);
  }

  void released(long bytes) {
    if (!closed) {
      currentBytes.addAndGet(-bytes);
    }
  }

  @Override
  public long currentBytes() {
    return currentBytes.get();
  }

  @Override
  public long peakBytes() {
    return peakBytes.get();
  }

  @Override
  public void resetPeakBytes() {
    peakBytes.set(currentBytes.get());
  }

  @Override
  public void synchronize() {
    // PyTorch's CPU ops have finished when they return.
  }

  // ---- creation and host <-> device copies ----

  /** The dtype the CPU stores a requested dtype as. */
  static DType storedAs(DType dtype) {
    return switch (dtype) {
      case F32, BF16, F16 -> DType.F32;
      case I32, I64 -> DType.I32;
      case U8 -> DType.U8;
    };
  }

  static DataType djlType(DType stored) {
    return switch (stored) {
      case F32 -> DataType.FLOAT32;
      case I32 -> DataType.INT32;
      case U8 -> DataType.UINT8;
      default -> throw new IllegalArgumentException("the CPU backend does not store " + stored);
    };
  }

  static ai.djl.ndarray.types.Shape djlShape(Shape shape) {
    int[] dims = shape.dims();
    long[] longs = new long[dims.length];
    for (int i = 0; i < dims.length; i++) {
      longs[i] = dims[i];
    }
    return new ai.djl.ndarray.types.Shape(longs);
  }

  /** A new uninitialised tensor stored as {@code storedAs(dtype)}. */
  private CpuTensor empty(Shape shape, DType dtype) {
    DType stored = storedAs(dtype);
    NDArray a = manager().create(djlShape(shape), djlType(stored));
    return CpuTensor.owning(this, a, shape, stored);
  }

  @Override
  public Tensor zeros(Shape shape, DType dtype) {
    DType stored = storedAs(dtype);
    NDArray a = manager().zeros(djlShape(shape), djlType(stored));
    return CpuTensor.owning(this, a, shape, stored);
  }

  @Override
  public Tensor fromFloats(float[] data, Shape shape, DType dtype) {
    if (!dtype.isFloatingPoint()) {
      throw OpArgs.error("fromFloats", "dtype must be F32, BF16 or F16, got %s (use fromInts for I32)", dtype);
    }
    if (data.length != shape.numel()) {
      throw OpArgs.error("fromFloats", "%d values do not fill shape %s (%d elements)", data.length, shape, shape.numel());
    }
    CpuTensor t = empty(shape, dtype);
    HostCopy.writeFloats(t.array(), data, dtype);
    return t;
  }

  @Override
  public Tensor fromInts(int[] data, Shape shape) {
    if (data.length != shape.numel()) {
      throw OpArgs.error("fromInts", "%d values do not fill shape %s (%d elements)", data.length, shape, shape.numel());
    }
    CpuTensor t = empty(shape, DType.I32);
    HostCopy.writeInts(t.array(), data);
    return t;
  }

  /**
   * Converts slice by slice straight from {@code src} into PyTorch's memory, so there is no heap copy
   * of the tensor. Float data (F32, BF16, F16) converts to any float dtype, I32 and I64 to I32 or I64
   * (stored as I32; an I64 value outside int range is an error), U8 to U8.
   */
  @Override
  public Tensor fromSegment(MemorySegment src, DType srcType, Shape shape, DType dtype) {
    String op = "fromSegment";
    long need = shape.numel() * srcType.byteSize();
    if (src.byteSize() != need) {
      throw OpArgs.error(op, "segment holds %d bytes but shape %s of %s needs %d", src.byteSize(), shape, srcType, need);
    }
    boolean convertible = srcType.isFloatingPoint() ? dtype.isFloatingPoint()
        : srcType == DType.U8 ? dtype == DType.U8
        : dtype == DType.I32 || dtype == DType.I64;
    if (!convertible) {
      throw OpArgs.error(op, "cannot convert %s data to a %s tensor", srcType, dtype);
    }
    CpuTensor t = empty(shape, dtype);
    try {
      convert(src, srcType, t, dtype);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  private static void convert(MemorySegment src, DType srcType, CpuTensor t, DType dtype) {
    String op = "fromSegment";
    int srcBytes = srcType.byteSize();
    // Rounding is needed only when the target format is narrower than, or different from, the source's.
    DType precision = dtype == DType.F32 || dtype == srcType ? DType.F32 : dtype;
    HostCopy.forEachChunk(t.array(), t.numel(), t.dtype().byteSize(), (dst, start, count) -> {
      MemorySegment in = src.asSlice(start * srcBytes, count * srcBytes);
      switch (srcType) {
        case F32, BF16, F16 -> {
          if (srcType == DType.F32 && precision == DType.F32) {
            MemorySegment.copy(in, F32_LE, 0, dst, ValueLayout.JAVA_FLOAT, 0, count);
          } else {
            for (long i = 0; i < count; i++) {
              dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, FloatFormat.round(FloatFormat.read(in, i, srcType), precision));
            }
          }
        }
        case I32 -> MemorySegment.copy(in, I32_LE, 0, dst, ValueLayout.JAVA_INT, 0, count);
        case I64 -> {
          for (long i = 0; i < count; i++) {
            long v = in.getAtIndex(I64_LE, i);
            if (v != (int) v) {
              throw OpArgs.error(op, "I64 element %d = %d does not fit the I32 tensors the CPU backend stores", start + i, v);
            }
            dst.setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
          }
        }
        case U8 -> MemorySegment.copy(in, 0, dst, 0, count);
      }
    });
  }

  @Override
  public void toSegment(Tensor t, MemorySegment dst) {
    CpuTensor c = OpArgs.tensor(this, "toSegment", "t", t);
    int size = t.dtype().byteSize();
    if (dst.byteSize() != t.numel() * size) {
      throw OpArgs.error("toSegment", "dst holds %d bytes but t %s %s has %d", dst.byteSize(), t.shape(), t.dtype(), t.numel() * size);
    }
    // PyTorch's CPU memory is in the host's order, little-endian on every platform lora4j runs on.
    HostCopy.forEachChunk(c.array(), t.numel(), size, (seg, start, count) -> MemorySegment.copy(seg, 0, dst, start * size, count * size));
  }

  @Override
  public float[] toFloats(Tensor t) {
    CpuTensor c = OpArgs.tensor(this, "toFloats", "t", t);
    OpArgs.floatType("toFloats", "t", t);
    return HostCopy.readFloats(c.array(), t.shape().numelInt());
  }

  @Override
  public int[] toInts(Tensor t) {
    CpuTensor c = OpArgs.tensor(this, "toInts", "t", t);
    OpArgs.dtype("toInts", "t", t, DType.I32);
    return HostCopy.readInts(c.array(), t.shape().numelInt());
  }

  /** PyTorch's conversion (float to int truncates toward zero), then rounding for BF16 and F16. */
  @Override
  public Tensor cast(Tensor t, DType dtype) {
    OpArgs.tensor(this, "cast", "t", t);
    DType stored = storedAs(dtype);
    CpuTensor out;
    try (OpFrame f = frame()) {
      // PyTorch's to() returns the tensor itself when the type does not change; out() copies inputs.
      NDArray a = f.in(t);
      out = f.out(a.getDataType() == djlType(stored) ? a : a.toType(djlType(stored), false), t.shape(), stored);
    }
    HostCopy.roundInPlace(out.array(), out.numel(), dtype.isFloatingPoint() ? dtype : DType.F32);
    return out;
  }

  @Override
  public Tensor reshape(Tensor t, Shape shape) {
    CpuTensor c = OpArgs.tensor(this, "reshape", "t", t);
    if (shape.numel() != t.numel()) {
      throw OpArgs.error("reshape", "cannot view t %s (%d elements) as %s (%d elements)", t.shape(), t.numel(), shape, shape.numel());
    }
    return c.view(shape);
  }

  @Override
  public Tensor slice(Tensor t, long offset, long count) {
    CpuTensor c = OpArgs.tensor(this, "slice", "t", t);
    if (offset < 0 || count < 0 || offset + count > t.numel() || count > Integer.MAX_VALUE) {
      throw OpArgs.error("slice", "elements [%d, %d + %d) are not within t %s (%d elements)", offset, offset, count, t.shape(), t.numel());
    }
    return c.slice(offset, count);
  }

  /** Host and device memory are one on the CPU: a tensor like any other whose bytes are not counted as device memory. */
  @Override
  public Tensor pinnedHost(Shape shape, DType dtype) {
    DType stored = storedAs(dtype);
    NDArray a = manager().zeros(djlShape(shape), djlType(stored));
    return CpuTensor.uncounted(this, a, shape, stored);
  }

  @Override
  public void copyInto(Tensor src, Tensor dst) {
    String op = "copyInto";
    OpArgs.tensor(this, op, "src", src);
    OpArgs.tensor(this, op, "dst", dst);
    if (src.numel() != dst.numel()) {
      throw OpArgs.error(op, "src %s has %d elements but dst %s has %d", src.shape(), src.numel(), dst.shape(), dst.numel());
    }
    try (OpFrame f = frame()) {
      NDArray value = f.in(src).toType(djlType(dst.dtype()), false).reshape(djlShape(dst.shape()));
      f.in(dst).set(new NDIndex("..."), value);
    }
  }

  @Override
  public void zeroInPlace(Tensor t) {
    OpArgs.tensor(this, "zeroInPlace", "t", t);
    try (OpFrame f = frame()) {
      // Assigning zeros, not multiplying by 0, so that NaN and inf are cleared too.
      f.in(t).set(new NDIndex("..."), f.zeros(Shape.of(), djlType(t.dtype())));
    }
  }

  // ---- elementwise and reductions ----

  @Override
  public Tensor add(Tensor a, Tensor b) {
    sameFloatShapes("add", "a", a, "b", b);
    try (OpFrame f = frame()) {
      return f.out(f.in(a).add(f.in(b)), a.shape(), DType.F32);
    }
  }

  @Override
  public void addInPlace(Tensor acc, Tensor x) {
    sameFloatShapes("addInPlace", "acc", acc, "x", x);
    try (OpFrame f = frame()) {
      f.in(acc).addi(f.in(x));
    }
  }

  @Override
  public void scaleInPlace(Tensor x, float alpha) {
    OpArgs.tensor(this, "scaleInPlace", "x", x);
    OpArgs.floatType("scaleInPlace", "x", x);
    try (OpFrame f = frame()) {
      f.in(x).muli(alpha);
    }
  }

  @Override
  public void axpy(float alpha, Tensor x, Tensor y) {
    sameFloatShapes("axpy", "x", x, "y", y);
    try (OpFrame f = frame()) {
      f.in(y).addi(f.in(x).mul(alpha));
    }
  }

  @Override
  public Tensor sumOfSquares(Tensor x) {
    OpArgs.tensor(this, "sumOfSquares", "x", x);
    OpArgs.floatType("sumOfSquares", "x", x);
    try (OpFrame f = frame()) {
      return f.out(f.in(x).square().sum(), Shape.of(), DType.F32);
    }
  }

  private void sameFloatShapes(String op, String nameA, Tensor a, String nameB, Tensor b) {
    OpArgs.tensor(this, op, nameA, a);
    OpArgs.tensor(this, op, nameB, b);
    OpArgs.floatType(op, nameA, a);
    OpArgs.floatType(op, nameB, b);
    OpArgs.sameShape(op, nameA, a, nameB, b);
  }

  // ---- matrix products ----

  @Override
  public void gemm(Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta, Tensor c) {
    Gemm.gemm(this, a, transA, b, transB, alpha, beta, c);
  }

  @Override
  public Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB) {
    return Gemm.matmul(this, a, transA, b, transB);
  }

  @Override
  public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    return Gemm.linear(this, x, weight, bias);
  }

  // ---- layers ----

  @Override
  public Tensor embedding(Tensor table, Tensor ids) {
    return Embedding.forward(this, table, ids);
  }

  @Override
  public NormOutput rmsNorm(Tensor x, Tensor weight, float eps) {
    return RmsNorm.forward(this, x, weight, eps);
  }

  @Override
  public Tensor rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor rstd) {
    return RmsNorm.backward(this, dOut, x, weight, rstd);
  }

  @Override
  public void ropeInPlace(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    Rope.applyInPlace(this, x, positions, invFreq, inverse);
  }

  @Override
  public AttentionOutput attention(Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    return Attention.forward(this, q, k, v, segments, scale);
  }

  @Override
  public AttentionGrads attentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, AttentionOutput forward) {
    return Attention.backward(this, dOut, q, k, v, segments, scale, forward);
  }

  @Override
  public Tensor cachedAttention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor keyMask, int start, float scale) {
    return CachedAttention.forward(this, q, k, v, kCache, vCache, keyMask, start, scale);
  }

  @Override
  public Tensor swiglu(Tensor gate, Tensor up) {
    return Swiglu.forward(this, gate, up);
  }

  @Override
  public Tensor[] swigluBackward(Tensor dOut, Tensor gate, Tensor up) {
    return Swiglu.backward(this, dOut, gate, up);
  }

  @Override
  public Tensor dropout(Tensor x, float p, long seed) {
    return Dropout.apply(this, x, p, seed);
  }

  @Override
  public Tensor crossEntropySum(Tensor logits, Tensor labels, int ignoreIndex) {
    return CrossEntropy.sum(this, logits, labels, ignoreIndex);
  }

  @Override
  public Tensor crossEntropyBackward(Tensor logits, Tensor labels, int ignoreIndex, float scale) {
    return CrossEntropy.backward(this, logits, labels, ignoreIndex, scale);
  }

  // ---- optimizer steps ----

  @Override
  public Tensor sumOfSquares(List<? extends Tensor> xs) {
    return GlobalNorm.sumOfSquares(this, xs);
  }

  @Override
  public void clipByNormInPlace(List<? extends Tensor> xs, Tensor sumOfSquares, float maxNorm) {
    GlobalNorm.clipInPlace(this, xs, sumOfSquares, maxNorm);
  }

  @Override
  public void adamwStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, double lr, double beta1, double beta2,
      double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    AdamWStep.step(this, param, grad, expAvg, expAvgSq, maxExpAvgSq, lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2, gradScale);
  }

  @Override
  public void adamw8bitStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgAbsmax, Tensor expAvgSq, Tensor expAvgSqAbsmax, double lr, double beta1,
      double beta2, double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    AdamW8bitStep.step(this, param, grad, expAvg, expAvgAbsmax, expAvgSq, expAvgSqAbsmax, lr, beta1, beta2, eps, weightDecay, biasCorrection1,
        biasCorrection2, gradScale);
  }

  @Override
  public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum, double dampening, double weightDecay,
      boolean nesterov, boolean firstStep, float gradScale) {
    SgdStep.step(this, param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov, firstStep, gradScale);
  }

  /** Frees every tensor of this backend; tensors still referenced report {@link Tensor#isClosed()}. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    manager.close();
    currentBytes.set(0);
  }

  @Override
  public String toString() {
    return description;
  }
}
