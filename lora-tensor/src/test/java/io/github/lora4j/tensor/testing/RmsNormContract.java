package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code rmsNorm} and {@code rmsNormBackward} (see {@link OpContract}).
 *
 * <p>bf16, forward: as transformers' LlamaRMSNorm does, {@code x * rstd} is rounded and then {@code
 * weight * that} is rounded. Both errors are relative to the output element itself ({@code out = w
 * n}), so {@code c = 3} (two roundings and slack) and {@code S = max |out|}. {@code rstd} is F32 and
 * keeps the fp32 tolerance. Backward: {@code dx = rstd (g - xhat mean(g xhat))} with {@code g = w
 * dOut}, which bf16 autograd rounds, and the output rounded: {@code c = 3}, {@code S = rstd max|g| (1 +
 * max|xhat|)} over rows, which bounds the two terms of {@code dx}.
 */
public abstract class RmsNormContract extends OpContract {
  /** fp32 mean of at most 64 squares, a sqrt, a division and two products on O(1) values: a few 1e-6 at worst. */
  static final Tolerance FORWARD = new Tolerance(1e-5, 1e-5);
  /** The backward sums D products per row in fp32; against a double finite difference. */
  static final Tolerance GRADIENT = new Tolerance(5e-5, 1e-4);
  protected static final float EPS = 1e-5f;

  @Property(tries = 30)
  void forwardMatchesReference(@ForAll @IntRange(min = 1, max = 5) int n, @ForAll @IntRange(min = 1, max = 64) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = stored(TestArrays.gaussian(rng, n * d, 2));
    float[] w = stored(TestArrays.uniform(rng, d, 0.5f, 1.5f));
    try (Scope _ = backend().scope()) {
      NormOutput out = backend().rmsNorm(upload(x, Shape.of(n, d)), upload(w, Shape.of(d)), EPS);
      double[][] in = GradientCheck.inputs(x, w);
      double[] expected = ReferenceOps.rmsNorm(in[0], n, d, in[1], EPS);
      tolerance(FORWARD, 3, TestArrays.maxAbs(expected), "x * rstd rounded, then weight * that rounded")
          .assertClose("rmsNorm out", download("rmsNorm out", out.out()), expected);
      assertEquals(Shape.of(n), out.rstd().shape());
      assertEquals(DType.F32, out.rstd().dtype());
      FORWARD.assertClose("rmsNorm rstd (F32 in every activation type)", backend().toFloats(out.rstd()), ReferenceOps.rmsNormRstd(in[0], n, d, EPS));
    }
  }

  @Property(tries = 30)
  void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 32) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    // |x| >= 0.1: as a row's rms approaches sqrt(eps) = 0.003, x / rms(x) bends on that scale, and the
    // finite difference (step 1e-4, truncation error h^2/6 times the third derivative) is off by 1e-3 or more.
    float[] x = TestArrays.gaussian(rng, n * d, 1);
    for (int i = 0; i < x.length; i++) {
      x[i] += Math.copySign(0.1f, x[i]);
    }
    x = stored(x);
    float[] w = stored(TestArrays.uniform(rng, d, 0.5f, 1.5f));
    float[] r = stored(TestArrays.gaussian(rng, n * d, 1));
    try (Scope _ = backend().scope()) {
      Tensor xt = upload(x, Shape.of(n, d));
      Tensor wt = upload(w, Shape.of(d));
      NormOutput out = backend().rmsNorm(xt, wt, EPS);
      Tensor dx = backend().rmsNormBackward(upload(r, Shape.of(n, d)), xt, wt, out.rstd());
      double[][] in = GradientCheck.inputs(x, w);
      double[] numeric = GradientCheck.numeric(GradientCheck.weightedSum(a -> ReferenceOps.rmsNorm(a[0], n, d, a[1], EPS), TestArrays.toDouble(r)), in, 0);
      double[] rstd = ReferenceOps.rmsNormRstd(in[0], n, d, EPS);
      // Rounding g = w dOut moves rstd g_j by u rstd |g_j| and rstd xhat_j mean(g xhat) by at most
      // u rstd |xhat_j| max|g| (mean |xhat| <= rms(xhat) = 1): S = max over rows of rstd max|g| (1 + max|xhat|).
      double scale = 0;
      for (int i = 0; i < n; i++) {
        double maxG = 0;
        double maxXhat = 0;
        for (int j = 0; j < d; j++) {
          maxG = Math.max(maxG, Math.abs((double) w[j] * r[i * d + j]));
          maxXhat = Math.max(maxXhat, Math.abs(x[i * d + j] * rstd[i]));
        }
        scale = Math.max(scale, rstd[i] * maxG * (1 + maxXhat));
      }
      tolerance(GRADIENT, 3, scale, "weight * dOut rounded, then dx rounded; S = max rstd max|weight dOut| (1 + max|xhat|)")
          .assertClose("rmsNormBackward dx", download("rmsNormBackward dx", dx), numeric);
    }
  }
}
