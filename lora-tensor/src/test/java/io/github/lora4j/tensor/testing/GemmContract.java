package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code gemm}, {@code matmul} and {@code linear}, and the transposed products that are their
 * gradients (see {@link OpContract}).
 *
 * <p>bf16: a product accumulates in fp32 and is rounded once when written, so each element is
 * within {@code u |c|} of the reference: {@code c = 2}, {@code S = max |c|}. A linear layer with a
 * bias rounds the product and then the sum with the bias: {@code c = 3}, {@code S} the larger of the
 * two.
 */
public abstract class GemmContract extends OpContract {
  /** Dot products of length <= 8 of unit normals in fp32: errors of a few 1e-7. */
  static final Tolerance PRODUCT = new Tolerance(1e-5, 1e-5);

  /** {@code op(a) @ op(b)} for {@code batch} stacked matrices (batch 0 means 2-D operands). */
  record Operands(int batch, int m, int k, int n, boolean transA, boolean transB, float[] a, float[] b) {
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
        double[] ai = Arrays.copyOfRange(av, i * m * k, (i + 1) * m * k);
        double[] bi = Arrays.copyOfRange(bv, i * k * n, (i + 1) * k * n);
        double[] ci = ReferenceOps.matmul(ai, aShape().dim(-2), aShape().dim(-1), transA, bi, bShape().dim(-2), bShape().dim(-1), transB);
        System.arraycopy(ci, 0, c, i * m * n, m * n);
      }
      return c;
    }
  }

  private Operands operands(Random rng, int batch, int m, int k, int n, boolean transA, boolean transB) {
    int count = Math.max(batch, 1);
    return new Operands(batch, m, k, n, transA, transB,
        stored(TestArrays.gaussian(rng, count * m * k, 1)), stored(TestArrays.gaussian(rng, count * k * n, 1)));
  }

  /** The tolerance for one product rounded once, for values up to {@code expected}'s largest. */
  private Tolerance product(double[] expected) {
    return tolerance(PRODUCT, 2, TestArrays.maxAbs(expected), "fp32 accumulation, output rounded once");
  }

  @Property(tries = 40)
  void gemmAccumulatesAlphaProductPlusBetaC(
      @ForAll @IntRange(min = 0, max = 2) int batch, @ForAll @IntRange(min = 1, max = 6) int m, @ForAll @IntRange(min = 1, max = 8) int k,
      @ForAll @IntRange(min = 1, max = 6) int n, @ForAll boolean transA, @ForAll boolean transB, @ForAll long seed) {
    Random rng = new Random(seed);
    Operands o = operands(rng, batch, m, k, n, transA, transB);
    float[] c0 = stored(TestArrays.gaussian(rng, Math.max(batch, 1) * m * n, 1));
    float alpha = (float) rng.nextGaussian();
    float beta = rng.nextBoolean() ? 1f : (float) rng.nextGaussian();
    try (Scope _ = backend().scope()) {
      Tensor a = upload(o.a(), o.aShape());
      Tensor b = upload(o.b(), o.bShape());
      double[] product = o.reference(TestArrays.toDouble(o.a()), TestArrays.toDouble(o.b()));
      Tensor mm = backend().matmul(a, transA, b, transB);
      assertEquals(o.cShape(), mm.shape());
      product(product).assertClose("matmul", download("matmul", mm), product);

      Tensor c = upload(c0, o.cShape());
      backend().gemm(a, transA, b, transB, alpha, beta, c);
      double[] expected = new double[product.length];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = alpha * product[i] + beta * c0[i];
      }
      product(expected).assertClose("gemm", download("gemm", c), expected);
    }
  }

  @Example
  void betaZeroOverwritesEvenNan() {
    try (Scope _ = backend().scope()) {
      Tensor a = upload(new float[] {1, 2}, Shape.of(1, 2));
      Tensor b = upload(new float[] {3, 4}, Shape.of(2, 1));
      Tensor c = upload(new float[] {Float.NaN}, Shape.of(1, 1));
      backend().gemm(a, false, b, false, 2f, 0f, c);
      assertEquals(22f, download("gemm", c)[0]);
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
    Operands o = operands(rng, batch, m, k, n, transA, transB);
    float[] r = stored(TestArrays.gaussian(rng, Math.max(batch, 1) * m * n, 1));
    try (Scope _ = backend().scope()) {
      Tensor a = upload(o.a(), o.aShape());
      Tensor b = upload(o.b(), o.bShape());
      Tensor rt = upload(r, o.cShape());
      Tensor dA = backend().zeros(o.aShape(), activationType());
      Tensor dB = backend().zeros(o.bShape(), activationType());
      if (transA) {
        backend().gemm(b, transB, rt, true, 1f, 0f, dA);
      } else {
        backend().gemm(rt, false, b, !transB, 1f, 0f, dA);
      }
      if (transB) {
        backend().gemm(rt, true, a, transA, 1f, 0f, dB);
      } else {
        backend().gemm(a, !transA, rt, false, 1f, 0f, dB);
      }
      var loss = GradientCheck.weightedSum(in -> o.reference(in[0], in[1]), TestArrays.toDouble(r));
      double[][] in = GradientCheck.inputs(o.a(), o.b());
      double[] numericA = GradientCheck.numeric(loss, in, 0);
      double[] numericB = GradientCheck.numeric(loss, in, 1);
      product(numericA).assertClose("dA", download("dA", dA), numericA);
      product(numericB).assertClose("dB", download("dB", dB), numericB);
    }
  }

  @Property(tries = 30)
  void linearMatchesReferenceAndItsGradientsAreGemms(
      @ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 1, max = 8) int in, @ForAll @IntRange(min = 1, max = 6) int out,
      @ForAll boolean withBias, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = stored(TestArrays.gaussian(rng, rows * in, 1));
    float[] w = stored(TestArrays.gaussian(rng, out * in, 1));
    float[] bias = withBias ? stored(TestArrays.gaussian(rng, out, 1)) : null;
    float[] r = stored(TestArrays.gaussian(rng, rows * out, 1));
    try (Scope _ = backend().scope()) {
      Tensor xt = upload(x, Shape.of(rows, in));
      Tensor wt = upload(w, Shape.of(out, in));
      Tensor bt = withBias ? upload(bias, Shape.of(out)) : null;
      double[] biasD = withBias ? TestArrays.toDouble(bias) : null;
      Tensor y = backend().linear(xt, wt, bt);
      assertEquals(Shape.of(rows, out), y.shape());
      double[] expected = ReferenceOps.linear(TestArrays.toDouble(x), rows, in, TestArrays.toDouble(w), out, biasD);
      double[] product = ReferenceOps.linear(TestArrays.toDouble(x), rows, in, TestArrays.toDouble(w), out, null);
      // c = 3: x W^T is rounded, then x W^T + bias; S is the larger of the two.
      tolerance(PRODUCT, 3, Math.max(TestArrays.maxAbs(product), TestArrays.maxAbs(expected)), "product rounded, then the sum with the bias")
          .assertClose("linear", download("linear", y), expected);

      Tensor rt = upload(r, Shape.of(rows, out));
      Tensor dx = backend().matmul(rt, false, wt, false);
      Tensor dw = backend().matmul(rt, true, xt, false);
      var loss = GradientCheck.weightedSum(a -> ReferenceOps.linear(a[0], rows, in, a[1], out, biasD), TestArrays.toDouble(r));
      double[][] inputs = GradientCheck.inputs(x, w);
      double[] numericX = GradientCheck.numeric(loss, inputs, 0);
      double[] numericW = GradientCheck.numeric(loss, inputs, 1);
      product(numericX).assertClose("linear dx = dy W", download("dx", dx), numericX);
      product(numericW).assertClose("linear dW = dy^T x", download("dW", dw), numericW);
    }
  }
}
