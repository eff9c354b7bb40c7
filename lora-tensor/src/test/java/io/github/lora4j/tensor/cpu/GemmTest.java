package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.GradientCheck;
import io.github.lora4j.tensor.testing.ReferenceOps;
import io.github.lora4j.tensor.testing.TestArrays;
import io.github.lora4j.tensor.testing.Tolerance;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class GemmTest {
  /** Dot products of length <= 8 of unit normals in fp32: errors of a few 1e-7. */
  static final Tolerance PRODUCT = new Tolerance(1e-5, 1e-5);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** {@code op(a) @ op(b)} for {@code batch} stacked matrices (batch 0 means 2-D operands). */
  record Operands(int batch, int m, int k, int n, boolean transA, boolean transB, float[] a, float[] b) {
    static Operands random(Random rng, int batch, int m, int k, int n, boolean transA, boolean transB) {
      int count = Math.max(batch, 1);
      return new Operands(batch, m, k, n, transA, transB, TestArrays.gaussian(rng, count * m * k, 1), TestArrays.gaussian(rng, count * k * n, 1));
    }

    Shape shape(int rows, int cols) {
      return batch == 0 ? Shape.of(rows, cols) : Shape.of(batch, rows, cols);
    }

    Shape aShape() {
      return transA ? shape(k, m) : shape(m, k);
    }

    Shape bShape() {
      return transB ? shape(n, k) : shape(k, n);
    }

    Shape cShape() {
      return shape(m, n);
    }

    double[] reference(double[] av, double[] bv) {
      int count = Math.max(batch, 1);
      double[] c = new double[count * m * n];
      for (int i = 0; i < count; i++) {
        double[] ai = java.util.Arrays.copyOfRange(av, i * m * k, (i + 1) * m * k);
        double[] bi = java.util.Arrays.copyOfRange(bv, i * k * n, (i + 1) * k * n);
        double[] ci = ReferenceOps.matmul(ai, aShape().dim(-2), aShape().dim(-1), transA, bi, bShape().dim(-2), bShape().dim(-1), transB);
        System.arraycopy(ci, 0, c, i * m * n, m * n);
      }
      return c;
    }
  }

  @Property(tries = 40)
  void gemmAccumulatesAlphaProductPlusBetaC(
      @ForAll @IntRange(min = 0, max = 2) int batch, @ForAll @IntRange(min = 1, max = 6) int m, @ForAll @IntRange(min = 1, max = 8) int k,
      @ForAll @IntRange(min = 1, max = 6) int n, @ForAll boolean transA, @ForAll boolean transB, @ForAll long seed) {
    Random rng = new Random(seed);
    Operands o = Operands.random(rng, batch, m, k, n, transA, transB);
    float[] c0 = TestArrays.gaussian(rng, Math.max(batch, 1) * m * n, 1);
    float alpha = (float) rng.nextGaussian();
    float beta = rng.nextBoolean() ? 1f : (float) rng.nextGaussian();
    try (Scope _ = backend.scope()) {
      Tensor a = backend.fromFloats(o.a(), o.aShape(), DType.F32);
      Tensor b = backend.fromFloats(o.b(), o.bShape(), DType.F32);
      double[] product = o.reference(TestArrays.toDouble(o.a()), TestArrays.toDouble(o.b()));
      Tensor mm = backend.matmul(a, transA, b, transB);
      assertEquals(o.cShape(), mm.shape());
      PRODUCT.assertClose("matmul", backend.toFloats(mm), product);

      Tensor c = backend.fromFloats(c0, o.cShape(), DType.F32);
      backend.gemm(a, transA, b, transB, alpha, beta, c);
      double[] expected = new double[product.length];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = alpha * product[i] + beta * c0[i];
      }
      PRODUCT.assertClose("gemm", backend.toFloats(c), expected);
    }
  }

  @Example
  void betaZeroOverwritesEvenNan() {
    try (Scope _ = backend.scope()) {
      Tensor a = backend.fromFloats(new float[] {1, 2}, Shape.of(1, 2), DType.F32);
      Tensor b = backend.fromFloats(new float[] {3, 4}, Shape.of(2, 1), DType.F32);
      Tensor c = backend.fromFloats(new float[] {Float.NaN}, Shape.of(1, 1), DType.F32);
      backend.gemm(a, false, b, false, 2f, 0f, c);
      assertEquals(22f, backend.toFloats(c)[0]);
    }
  }

  /**
   * For {@code C = op(A) op(B)} and {@code L = sum(C * R)}: {@code dA} is {@code R op(B)^T} (or its
   * transpose when A is stored transposed) and {@code dB} is {@code op(A)^T R} (likewise), each one
   * gemm with transposed operands, checked against finite differences.
   */
  @Property(tries = 40)
  void transposedGemmsGiveTheGradients(
      @ForAll @IntRange(min = 0, max = 2) int batch, @ForAll @IntRange(min = 1, max = 5) int m, @ForAll @IntRange(min = 1, max = 5) int k,
      @ForAll @IntRange(min = 1, max = 5) int n, @ForAll boolean transA, @ForAll boolean transB, @ForAll long seed) {
    Random rng = new Random(seed);
    Operands o = Operands.random(rng, batch, m, k, n, transA, transB);
    float[] r = TestArrays.gaussian(rng, Math.max(batch, 1) * m * n, 1);
    try (Scope _ = backend.scope()) {
      Tensor a = backend.fromFloats(o.a(), o.aShape(), DType.F32);
      Tensor b = backend.fromFloats(o.b(), o.bShape(), DType.F32);
      Tensor rt = backend.fromFloats(r, o.cShape(), DType.F32);
      Tensor dA = backend.zeros(o.aShape(), DType.F32);
      Tensor dB = backend.zeros(o.bShape(), DType.F32);
      if (transA) {
        backend.gemm(b, transB, rt, true, 1f, 0f, dA);
      } else {
        backend.gemm(rt, false, b, !transB, 1f, 0f, dA);
      }
      if (transB) {
        backend.gemm(rt, true, a, transA, 1f, 0f, dB);
      } else {
        backend.gemm(a, !transA, rt, false, 1f, 0f, dB);
      }
      var loss = GradientCheck.weightedSum(in -> o.reference(in[0], in[1]), TestArrays.toDouble(r));
      double[][] in = GradientCheck.inputs(o.a(), o.b());
      PRODUCT.assertClose("dA", backend.toFloats(dA), GradientCheck.numeric(loss, in, 0));
      PRODUCT.assertClose("dB", backend.toFloats(dB), GradientCheck.numeric(loss, in, 1));
    }
  }

  @Property(tries = 30)
  void linearMatchesReferenceAndItsGradientsAreGemms(
      @ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 1, max = 8) int in, @ForAll @IntRange(min = 1, max = 6) int out,
      @ForAll boolean withBias, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = TestArrays.gaussian(rng, rows * in, 1);
    float[] w = TestArrays.gaussian(rng, out * in, 1);
    float[] bias = withBias ? TestArrays.gaussian(rng, out, 1) : null;
    float[] r = TestArrays.gaussian(rng, rows * out, 1);
    try (Scope _ = backend.scope()) {
      Tensor xt = backend.fromFloats(x, Shape.of(rows, in), DType.F32);
      Tensor wt = backend.fromFloats(w, Shape.of(out, in), DType.F32);
      Tensor bt = withBias ? backend.fromFloats(bias, Shape.of(out), DType.F32) : null;
      double[] biasD = withBias ? TestArrays.toDouble(bias) : null;
      Tensor y = backend.linear(xt, wt, bt);
      assertEquals(Shape.of(rows, out), y.shape());
      PRODUCT.assertClose("linear", backend.toFloats(y), ReferenceOps.linear(TestArrays.toDouble(x), rows, in, TestArrays.toDouble(w), out, biasD));

      Tensor rt = backend.fromFloats(r, Shape.of(rows, out), DType.F32);
      Tensor dx = backend.matmul(rt, false, wt, false);
      Tensor dw = backend.matmul(rt, true, xt, false);
      var loss = GradientCheck.weightedSum(a -> ReferenceOps.linear(a[0], rows, in, a[1], out, biasD), TestArrays.toDouble(r));
      double[][] inputs = GradientCheck.inputs(x, w);
      PRODUCT.assertClose("linear dx = dy W", backend.toFloats(dx), GradientCheck.numeric(loss, inputs, 0));
      PRODUCT.assertClose("linear dW = dy^T x", backend.toFloats(dw), GradientCheck.numeric(loss, inputs, 1));
    }
  }

  @Example
  void rejectsMismatchedOperands() {
    try (Scope _ = backend.scope()) {
      Tensor a = backend.zeros(Shape.of(3, 4), DType.F32);
      Tensor b = backend.zeros(Shape.of(5, 6), DType.F32);
      var inner = assertThrows(IllegalArgumentException.class, () -> backend.matmul(a, false, b, false));
      assertEquals("matmul: inner dims differ: op(a) of a [3, 4] has 4 columns, op(b) of b [5, 6] has 5 rows", inner.getMessage());
      var c = assertThrows(IllegalArgumentException.class, () -> backend.gemm(a, true, a, false, 1f, 0f, backend.zeros(Shape.of(3, 3), DType.F32)));
      assertEquals("gemm: c is [3, 3] but op(a) @ op(b) is [4, 4]", c.getMessage());
      var batch = assertThrows(IllegalArgumentException.class,
          () -> backend.matmul(backend.zeros(Shape.of(2, 3, 4), DType.F32), false, backend.zeros(Shape.of(3, 4, 5), DType.F32), false));
      assertEquals("matmul: batch dims differ: a [2, 3, 4], b [3, 4, 5]", batch.getMessage());
      var rank = assertThrows(IllegalArgumentException.class, () -> backend.matmul(a, false, backend.zeros(Shape.of(1, 4, 5), DType.F32), false));
      assertEquals("matmul: a [3, 4] and b [1, 4, 5] must have the same rank", rank.getMessage());
      var lin = assertThrows(IllegalArgumentException.class, () -> backend.linear(a, b, null));
      assertEquals("linear: x [3, 4] has 4 input features but weight [5, 6] has 6", lin.getMessage());
      var bias = assertThrows(IllegalArgumentException.class, () -> backend.linear(a, backend.zeros(Shape.of(2, 4), DType.F32), backend.zeros(Shape.of(3), DType.F32)));
      assertEquals("linear: bias [3] does not match weight [2, 4]'s 2 outputs", bias.getMessage());
    }
  }
}
