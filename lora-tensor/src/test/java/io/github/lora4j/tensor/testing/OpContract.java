package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * What the op contracts ({@link BackendContract} and the classes it groups) need from the backend
 * under test, and how they derive their tolerances. A subclass says which backend and in which
 * float type activations are uploaded:
 *
 * <pre>{@code
 * class RmsNormTest extends RmsNormContract {
 *   private static Backend backend;
 *   @BeforeContainer static void open() { backend = Backends.open(Device.cpu()); }
 *   @AfterContainer static void close() { backend.close(); }
 *   @Override protected Backend backend() { return backend; }
 *   @Override protected DType activationType() { return DType.F32; }
 * }
 * }</pre>
 *
 * <p>Every contract checks an op's forward against the double-precision {@link ReferenceOps} and its
 * backward against central finite differences of the same references ({@link GradientCheck}), so
 * the expected values never come from a backend.
 *
 * <h2>Tolerances</h2>
 *
 * Each test states an fp32 tolerance, from the fp32 rounding and accumulation error of its op on its
 * shapes. When the backend stores activations in a 16-bit type ({@link #storageType()}; the GPU with
 * BF16) the test widens it with {@link Tolerance#widenedFor}, from this error model:
 *
 * <ul>
 *   <li>Inputs are drawn in fp32 and rounded to bf16 when uploaded. The test rounds them the same way
 *       ({@link #stored}, round to nearest even) and computes the reference on the rounded values,
 *       so input rounding adds no error.
 *   <li>Every value an op writes in bf16, its output and any intermediate it stores in bf16, is
 *       rounded once, with relative error at most {@code u = 2^-8 = 0.0039} (bf16 keeps 8
 *       significant bits).
 *   <li>Reductions (dot products, row sums, softmax) accumulate in fp32; their error is the fp32
 *       tolerance's.
 * </ul>
 *
 * An output reached through {@code k} such roundings of values no larger than {@code S} is then
 * within {@code k * u * S} of the reference (to first order; products of roundings are {@code u^2}).
 * The bf16 tolerance adds {@code atol = c * u * S} and {@code rtol = c * u}, with {@code c} the
 * number of roundings on the op's longest path plus one for slack (fp32 intrinsics, the order of
 * operations), and {@code S} the magnitude of the values rounded, computed from the test's data.
 * Each test names its {@code c} and {@code S}, and a failure message repeats them.
 *
 * <p>On a backend that stores BF16 uploads as fp32 values (the CPU) {@link #storageType()} is F32:
 * outputs are not rounded, and the fp32 tolerance applies to the reference on rounded inputs.
 */
public abstract class OpContract {
  /** 2^-8, the largest relative error of one rounding to bf16. */
  public static final double BF16_UNIT_ROUNDOFF = 0x1p-8;

  private DType storageType;

  /** The backend under test, open for the whole container. */
  protected abstract Backend backend();

  /** The float type activations, weights and gradients are uploaded in: F32, or BF16 for mixed precision. */
  protected abstract DType activationType();

  /** Uploads {@code values} in {@link #activationType()}. */
  protected final Tensor upload(float[] values, Shape shape) {
    return backend().fromFloats(values, shape, activationType());
  }

  /** {@code values} as {@link #upload} stores them: rounded to nearest even in {@link #activationType()}. */
  protected final float[] stored(float[] values) {
    return FloatRounding.round(values, activationType());
  }

  /** {@code v} rounded as an op rounds a value it writes in {@link #storageType()}. */
  protected final float storedOutput(float v) {
    return FloatRounding.round(v, storageType());
  }

  /**
   * The type the backend stores {@link #activationType()} tensors in, and so its ops' outputs: the
   * activation type itself on the GPU; F32 on the CPU, which holds BF16 uploads as fp32 values.
   */
  protected final DType storageType() {
    if (storageType == null) {
      try (Scope _ = backend().scope()) {
        storageType = upload(new float[] {1f}, Shape.of(1)).dtype();
      }
    }
    return storageType;
  }

  /** Downloads an op's output after checking that it is stored like its inputs, as {@link Backend} promises. */
  protected final float[] download(String what, Tensor out) {
    assertEquals(storageType(), out.dtype(), what + ": outputs have the dtype of the op's float inputs");
    return backend().toFloats(out);
  }

  /** {@code fp32} widened for {@link #storageType()} by {@code c} roundings of values of magnitude {@code scale} (see the class comment). */
  protected final Tolerance tolerance(Tolerance fp32, double c, double scale, String why) {
    return fp32.widenedFor(storageType(), c, scale, why);
  }
}
