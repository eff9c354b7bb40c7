package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.DynamicQuantization;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The optimizer ops of {@link Backend}: {@code adamwStep}, {@code adamw8bitStep}, {@code sgdStep},
 * the global {@code sumOfSquares} and {@code clipByNormInPlace}, on tensors of any length.
 *
 * <p>Two references for each step: a float one that follows the order of operations the {@link
 * Backend} javadoc fixes (torch's), which a backend should meet to the last bit and is held to a
 * few roundings ({@link #ORDERED}), and a textbook one in double (the formulas of the torch docs),
 * held to the error that fp32 arithmetic makes over the steps ({@link #TEXTBOOK}). The float
 * reference is the test's own code, not a backend's.
 *
 * <pre>{@code
 * class OptimizerOpsTest extends OptimizerContract {
 *   private static Backend backend;
 *   @BeforeContainer static void open() { backend = Backends.open(Device.cpu()); }
 *   @AfterContainer static void close() { backend.close(); }
 *   @Override protected Backend backend() { return backend; }
 * }
 * }</pre>
 */
public abstract class OptimizerContract {
  /** The javadoc's order of float operations, allowing two roundings of slack (of the tensor's largest value, for states near 0). */
  static final Tolerance ORDERED = new Tolerance(0, 0, "the Backend javadoc's order of fp32 operations");
  static final double ORDERED_SLACK = 2 * 0x1p-24;
  /** fp32 against double over a few steps: a few roundings of each value, relative to the tensor's scale. */
  static final double TEXTBOOK_SLACK = 1e-5;

  private static final int STEPS = 4;

  /** The backend under test, open for the whole container. */
  protected abstract Backend backend();

  record AdamWCase(double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad, float gradScale) {}

  @Provide
  Arbitrary<AdamWCase> adamwCases() {
    return net.jqwik.api.Combinators.combine(
            Arbitraries.of(1e-3, 3e-2, 0.5),
            // beta1 <= 0.5 takes lerp's other branch (weight >= 0.5).
            Arbitraries.of(0.9, 0.3, 0.0),
            Arbitraries.of(0.999, 0.95),
            Arbitraries.of(1e-8, 1e-3),
            Arbitraries.of(0.0, 0.01, 0.3),
            Arbitraries.of(false, true),
            Arbitraries.of(1f, 0.37f, 1f / 1024))
        .as(AdamWCase::new);
  }

  @Property(tries = 40)
  void adamwStepFollowsTorch(@ForAll @IntRange(min = 1, max = 300) int n, @ForAll("adamwCases") AdamWCase c, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] p = TestArrays.gaussian(rng, n, 1);
    float[] m = new float[n];
    float[] v = new float[n];
    float[] vMax = new float[n];
    double[] pd = TestArrays.toDouble(p);
    double[] md = new double[n];
    double[] vd = new double[n];
    double[] vMaxd = new double[n];
    try (Scope _ = backend().scope()) {
      Tensor tp = backend().fromFloats(p, Shape.of(n), DType.F32);
      Tensor tm = backend().zeros(Shape.of(n), DType.F32);
      Tensor tv = backend().zeros(Shape.of(n), DType.F32);
      Tensor tMax = c.amsgrad() ? backend().zeros(Shape.of(n), DType.F32) : null;
      for (int step = 1; step <= STEPS; step++) {
        // Gradients of mixed magnitude, with exact zeros, as LoRA's B gradients start.
        float[] g = TestArrays.gaussian(rng, n, step == 2 ? 1e-3 : 3);
        g[rng.nextInt(n)] = 0;
        double bc1 = 1 - Math.pow(c.beta1(), step);
        double bc2 = 1 - Math.pow(c.beta2(), step);
        backend().adamwStep(tp, backend().fromFloats(g, Shape.of(n), DType.F32), tm, tv, tMax,
            c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay(), bc1, bc2, c.gradScale());
        adamwOrdered(p, g, m, v, c.amsgrad() ? vMax : null, c, bc1, bc2);
        adamwTextbook(pd, g, md, vd, c.amsgrad() ? vMaxd : null, c, bc1, bc2);
      }
      String what = "adamwStep " + c + " n " + n;
      assertOrdered(what + " param", backend().toFloats(tp), p);
      assertOrdered(what + " expAvg", backend().toFloats(tm), m);
      assertOrdered(what + " expAvgSq", backend().toFloats(tv), v);
      if (c.amsgrad()) {
        assertOrdered(what + " maxExpAvgSq", backend().toFloats(tMax), vMax);
      }
      assertTextbook(what + " param", backend().toFloats(tp), pd, c.lr() * STEPS);
      assertTextbook(what + " expAvg", backend().toFloats(tm), md, TestArrays.maxAbs(md));
      assertTextbook(what + " expAvgSq", backend().toFloats(tv), vd, TestArrays.maxAbs(vd));
    }
  }

  @Property(tries = 25)
  void adamw8bitStepQuantisesBlockwise(@ForAll @IntRange(min = 1, max = 700) int n, @ForAll("adamwCases") AdamWCase c, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] p = TestArrays.gaussian(rng, n, 1);
    int blocks = (int) DynamicQuantization.blocks(n);
    byte[] mq = new byte[n];
    byte[] vq = new byte[n];
    float[] mAbs = new float[blocks];
    float[] vAbs = new float[blocks];
    try (Scope _ = backend().scope(); Arena arena = Arena.ofConfined()) {
      Tensor tp = backend().fromFloats(p, Shape.of(n), DType.F32);
      Tensor tmq = backend().zeros(Shape.of(n), DType.U8);
      Tensor tvq = backend().zeros(Shape.of(n), DType.U8);
      Tensor tmAbs = backend().zeros(Shape.of(blocks), DType.F32);
      Tensor tvAbs = backend().zeros(Shape.of(blocks), DType.F32);
      for (int step = 1; step <= STEPS; step++) {
        float[] g = TestArrays.gaussian(rng, n, step == 2 ? 1e-3 : 3);
        double bc1 = 1 - Math.pow(c.beta1(), step);
        double bc2 = 1 - Math.pow(c.beta2(), step);
        float[] mBefore = dequantize(mq, mAbs, SIGNED);
        float[] vBefore = dequantize(vq, vAbs, UNSIGNED);
        backend().adamw8bitStep(tp, backend().fromFloats(g, Shape.of(n), DType.F32), tmq, tmAbs, tvq, tvAbs,
            c.lr(), c.beta1(), c.beta2(), c.eps(), c.weightDecay(), bc1, bc2, c.gradScale());
        float[][] exact = adamw8bitOrdered(p, g, mq, mAbs, vq, vAbs, c, bc1, bc2);
        String what = "adamw8bitStep " + c + " n " + n + " step " + step;
        assertOrdered(what + " param", backend().toFloats(tp), p);
        assertOrdered(what + " expAvgAbsmax", backend().toFloats(tmAbs), mAbs);
        assertOrdered(what + " expAvgSqAbsmax", backend().toFloats(tvAbs), vAbs);
        assertCodes(what + " expAvg", bytes(arena, tmq), mq);
        assertCodes(what + " expAvgSq", bytes(arena, tvq), vq);
        // Independently of the order of operations: the stored moments are the new moments to within
        // half the gap between neighbouring codes (scaled by the block's absmax), plus fp32 noise.
        assertWithinHalfACode(what + " stored m", dequantize(mq, mAbs, SIGNED), exact[0], mAbs, SIGNED);
        assertWithinHalfACode(what + " stored v", dequantize(vq, vAbs, UNSIGNED), exact[1], vAbs, UNSIGNED);
        for (int i = 0; i < n; i++) {
          // The moments the update used came from the dequantised state of the step before.
          double m = c.beta1() * mBefore[i] + (1 - c.beta1()) * (double) g[i] * c.gradScale();
          assertTrue(Math.abs(m - exact[0][i]) <= 1e-5 * (Math.abs(m) + mAbs[i / DynamicQuantization.BLOCK_SIZE]) + 1e-30,
              what + ": m[" + i + "] " + exact[0][i] + " is not beta1 m + (1 - beta1) g = " + m);
          double v = c.beta2() * vBefore[i] + (1 - c.beta2()) * Math.pow((double) g[i] * c.gradScale(), 2);
          assertTrue(Math.abs(v - exact[1][i]) <= 1e-5 * (v + vAbs[i / DynamicQuantization.BLOCK_SIZE]) + 1e-30, what + ": v[" + i + "] " + exact[1][i] + " vs " + v);
        }
      }
    }
  }

  private static final float[] SIGNED = DynamicQuantization.signedCode();
  private static final float[] UNSIGNED = DynamicQuantization.unsignedCode();

  /**
   * The Backend javadoc's 8-bit step on the reference state (codes and scales updated in place);
   * returns the new moments before quantisation, {m, v}.
   */
  static float[][] adamw8bitOrdered(float[] p, float[] g, byte[] mq, float[] mAbs, byte[] vq, float[] vAbs, AdamWCase c, double bc1, double bc2) {
    int n = p.length;
    float decay = (float) (1 - c.lr() * c.weightDecay());
    float w = (float) (1 - c.beta1());
    float b2 = (float) c.beta2();
    float c2 = (float) (1 - c.beta2());
    float bc2Sqrt = (float) Math.sqrt(bc2);
    float eps = (float) c.eps();
    float s = (float) -(c.lr() / bc1);
    float[] m = new float[n];
    float[] v = new float[n];
    int block = DynamicQuantization.BLOCK_SIZE;
    for (int b = 0; b * block < n; b++) {
      float mMax = 0;
      float vMax = 0;
      for (int i = b * block; i < Math.min(n, (b + 1) * block); i++) {
        float gi = g[i] * c.gradScale();
        float mi = SIGNED[mq[i] & 0xff] * mAbs[b];
        float vi = UNSIGNED[vq[i] & 0xff] * vAbs[b];
        p[i] = p[i] * decay;
        m[i] = w < 0.5f ? Math.fma(w, gi - mi, mi) : Math.fma(w - 1f, gi - mi, gi);
        v[i] = Math.fma(c2 * gi, gi, vi * b2);
        float denom = (float) Math.sqrt(v[i]) / bc2Sqrt + eps;
        p[i] = p[i] + (s * m[i]) / denom;
        mMax = Math.max(mMax, Math.abs(m[i]));
        vMax = Math.max(vMax, v[i]);
      }
      mAbs[b] = mMax;
      vAbs[b] = vMax;
      for (int i = b * block; i < Math.min(n, (b + 1) * block); i++) {
        mq[i] = (byte) DynamicQuantization.quantize(mMax == 0 ? 0f : m[i] / mMax, SIGNED);
        vq[i] = (byte) DynamicQuantization.quantize(vMax == 0 ? 0f : v[i] / vMax, UNSIGNED);
      }
    }
    return new float[][] {m, v};
  }

  static float[] dequantize(byte[] q, float[] absmax, float[] code) {
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      out[i] = code[q[i] & 0xff] * absmax[i / DynamicQuantization.BLOCK_SIZE];
    }
    return out;
  }

  private byte[] bytes(Arena arena, Tensor t) {
    MemorySegment seg = arena.allocate(t.numel());
    backend().toSegment(t, seg);
    return seg.toArray(ValueLayout.JAVA_BYTE);
  }

  /** Codes may differ by one step where the value normalised by the block's absmax lies within a rounding of a midpoint. */
  private static void assertCodes(String what, byte[] actual, byte[] expected) {
    for (int i = 0; i < expected.length; i++) {
      int d = Math.abs((actual[i] & 0xff) - (expected[i] & 0xff));
      assertTrue(d <= 1, what + "[" + i + "] is code " + (actual[i] & 0xff) + ", expected " + (expected[i] & 0xff));
    }
  }

  private static void assertWithinHalfACode(String what, float[] stored, float[] exact, float[] absmax, float[] code) {
    for (int i = 0; i < exact.length; i++) {
      float scale = absmax[i / DynamicQuantization.BLOCK_SIZE];
      if (scale == 0) {
        assertEquals(0f, stored[i], 0f, what + "[" + i + "] in an all-zero block");
        continue;
      }
      double x = exact[i] / scale;
      int k = DynamicQuantization.quantize((float) x, code);
      double gap = Math.max(k > 0 ? code[k] - code[k - 1] : 0, k < 255 ? code[k + 1] - code[k] : 0);
      assertTrue(Math.abs(stored[i] - exact[i]) <= (gap / 2 + 1e-6) * scale, what + "[" + i + "] " + stored[i] + " vs " + exact[i] + " (gap " + gap + ", absmax " + scale + ")");
    }
  }

  record SgdCase(double lr, double momentum, double dampening, double weightDecay, boolean nesterov, float gradScale) {}

  @Provide
  Arbitrary<SgdCase> sgdCases() {
    return net.jqwik.api.Combinators.combine(
            Arbitraries.of(1e-3, 0.1),
            Arbitraries.of(0.0, 0.9),
            Arbitraries.of(0.0, 0.1),
            Arbitraries.of(0.0, 0.01),
            Arbitraries.of(false, true),
            Arbitraries.of(1f, 0.37f))
        .as(SgdCase::new)
        // torch's Nesterov needs momentum and no dampening.
        .filter(c -> !c.nesterov() || (c.momentum() > 0 && c.dampening() == 0));
  }

  @Property(tries = 30)
  void sgdStepFollowsTorch(@ForAll @IntRange(min = 1, max = 300) int n, @ForAll("sgdCases") SgdCase c, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] p = TestArrays.gaussian(rng, n, 1);
    float[] buf = new float[n];
    double[] pd = TestArrays.toDouble(p);
    double[] bufd = new double[n];
    try (Scope _ = backend().scope()) {
      Tensor tp = backend().fromFloats(p, Shape.of(n), DType.F32);
      Tensor tb = c.momentum() != 0 ? backend().zeros(Shape.of(n), DType.F32) : null;
      for (int step = 1; step <= STEPS; step++) {
        float[] g = TestArrays.gaussian(rng, n, 1);
        backend().sgdStep(tp, backend().fromFloats(g, Shape.of(n), DType.F32), tb, c.lr(), c.momentum(), c.dampening(), c.weightDecay(),
            c.nesterov(), step == 1, c.gradScale());
        sgdOrdered(p, g, buf, c, step == 1);
        sgdTextbook(pd, g, bufd, c, step == 1);
      }
      String what = "sgdStep " + c + " n " + n;
      assertOrdered(what + " param", backend().toFloats(tp), p);
      if (tb != null) {
        assertOrdered(what + " momentumBuffer", backend().toFloats(tb), buf);
      }
      assertTextbook(what + " param", backend().toFloats(tp), pd, 1 + c.lr() * STEPS);
    }
  }

  @Example
  void stepsLeaveTheGradientAlone() {
    try (Scope _ = backend().scope()) {
      float[] g = {1, -2, 3};
      Tensor grad = backend().fromFloats(g, Shape.of(3), DType.F32);
      Tensor p = backend().zeros(Shape.of(3), DType.F32);
      backend().adamwStep(p, grad, backend().zeros(Shape.of(3), DType.F32), backend().zeros(Shape.of(3), DType.F32), null,
          0.1, 0.9, 0.999, 1e-8, 0.1, 0.1, 0.001, 0.5f);
      backend().sgdStep(p, grad, backend().zeros(Shape.of(3), DType.F32), 0.1, 0.9, 0, 0.1, true, true, 0.5f);
      assertEquals(List.of(1f, -2f, 3f), boxed(backend().toFloats(grad)), "gradScale applies as the gradient is read");
    }
  }

  @Property(tries = 20)
  void globalSumOfSquaresCoversEveryTensor(@ForAll @IntRange(min = 0, max = 5) int tensors, @ForAll long seed) {
    Random rng = new Random(seed);
    try (Scope _ = backend().scope()) {
      Tensor[] xs = new Tensor[tensors];
      double expected = 0;
      for (int i = 0; i < tensors; i++) {
        int rows = 1 + rng.nextInt(7);
        int cols = 1 + rng.nextInt(300);
        float[] x = TestArrays.gaussian(rng, rows * cols, 2);
        for (float f : x) {
          expected += (double) f * f;
        }
        xs[i] = backend().fromFloats(x, Shape.of(rows, cols), DType.F32);
      }
      Tensor s = backend().sumOfSquares(List.of(xs));
      assertEquals(Shape.of(), s.shape());
      assertEquals(DType.F32, s.dtype());
      // fp32 accumulation of at most 10,500 squares: within 1e-5 relative in any order of summation.
      new Tolerance(0, 1e-5, "fp32 sum of up to 10,500 positive terms").assertClose("sumOfSquares of " + tensors + " tensors", backend().toFloats(s)[0], expected);
    }
  }

  @Example
  void clipByNormScalesAboveTheLimitOnly() {
    try (Scope _ = backend().scope()) {
      float[] a = {3, 0};
      float[] b = {0, 0, 4};
      Tensor ta = backend().fromFloats(a, Shape.of(2), DType.F32);
      Tensor tb = backend().fromFloats(b, Shape.of(3), DType.F32);
      List<Tensor> xs = List.of(ta, tb);
      Tensor s = backend().sumOfSquares(xs);
      assertEquals(25f, backend().toFloats(s)[0]);
      backend().clipByNormInPlace(xs, s, 10f);
      assertEquals(List.of(3f, 0f), boxed(backend().toFloats(ta)), "a norm of 5 is under the limit of 10: unchanged");
      backend().clipByNormInPlace(xs, s, 1f);
      // torch: clip_coef = (1 / (5 + 1e-6)) * 1, in float32.
      float coef = (1f / (5f + 1e-6f)) * 1f;
      assertEquals(List.of(3f * coef, 0f), boxed(backend().toFloats(ta)));
      assertEquals(List.of(0f, 0f, 4f * coef), boxed(backend().toFloats(tb)));
      double norm = Math.sqrt(sumSquares(backend().toFloats(ta)) + sumSquares(backend().toFloats(tb)));
      new Tolerance(0, 1e-6).assertClose("norm after clipping to 1", norm, 1.0);

      Tensor nan = backend().fromFloats(new float[] {Float.NaN, 1}, Shape.of(2), DType.F32);
      Tensor other = backend().fromFloats(new float[] {2}, Shape.of(1), DType.F32);
      backend().clipByNormInPlace(List.of(nan, other), backend().sumOfSquares(List.of(nan, other)), 1f);
      assertTrue(Float.isNaN(backend().toFloats(other)[0]), "a NaN norm makes every clipped tensor NaN, as torch's does");
    }
  }

  // ---- references

  /** The Backend javadoc's float operations, in its order. */
  static void adamwOrdered(float[] p, float[] g, float[] m, float[] v, float[] vMax, AdamWCase c, double bc1, double bc2) {
    float decay = (float) (1 - c.lr() * c.weightDecay());
    float w = (float) (1 - c.beta1());
    float b2 = (float) c.beta2();
    float c2 = (float) (1 - c.beta2());
    float bc2Sqrt = (float) Math.sqrt(bc2);
    float eps = (float) c.eps();
    float s = (float) -(c.lr() / bc1);
    for (int i = 0; i < p.length; i++) {
      float gi = g[i] * c.gradScale();
      p[i] = p[i] * decay;
      m[i] = w < 0.5f ? Math.fma(w, gi - m[i], m[i]) : Math.fma(w - 1f, gi - m[i], gi);
      v[i] = Math.fma(c2 * gi, gi, v[i] * b2);
      float u = v[i];
      if (vMax != null) {
        vMax[i] = Math.max(vMax[i], v[i]);
        u = vMax[i];
      }
      float denom = (float) Math.sqrt(u) / bc2Sqrt + eps;
      p[i] = p[i] + (s * m[i]) / denom;
    }
  }

  /** torch.optim.AdamW's documented algorithm in double. */
  static void adamwTextbook(double[] p, float[] g, double[] m, double[] v, double[] vMax, AdamWCase c, double bc1, double bc2) {
    for (int i = 0; i < p.length; i++) {
      double gi = (double) g[i] * c.gradScale();
      p[i] *= 1 - c.lr() * c.weightDecay();
      m[i] = c.beta1() * m[i] + (1 - c.beta1()) * gi;
      v[i] = c.beta2() * v[i] + (1 - c.beta2()) * gi * gi;
      double u = v[i];
      if (vMax != null) {
        vMax[i] = Math.max(vMax[i], v[i]);
        u = vMax[i];
      }
      p[i] -= c.lr() * (m[i] / bc1) / (Math.sqrt(u / bc2) + c.eps());
    }
  }

  static void sgdOrdered(float[] p, float[] g, float[] buf, SgdCase c, boolean first) {
    float wd = (float) c.weightDecay();
    float mu = (float) c.momentum();
    float damp = (float) (1 - c.dampening());
    float a = (float) -c.lr();
    for (int i = 0; i < p.length; i++) {
      float gi = g[i] * c.gradScale();
      if (c.weightDecay() != 0) {
        gi = Math.fma(wd, p[i], gi);
      }
      if (c.momentum() != 0) {
        buf[i] = first ? gi : Math.fma(damp, gi, buf[i] * mu);
        gi = c.nesterov() ? Math.fma(mu, buf[i], gi) : buf[i];
      }
      p[i] = Math.fma(a, gi, p[i]);
    }
  }

  static void sgdTextbook(double[] p, float[] g, double[] buf, SgdCase c, boolean first) {
    for (int i = 0; i < p.length; i++) {
      double gi = (double) g[i] * c.gradScale() + c.weightDecay() * p[i];
      if (c.momentum() != 0) {
        buf[i] = first ? gi : c.momentum() * buf[i] + (1 - c.dampening()) * gi;
        gi = c.nesterov() ? gi + c.momentum() * buf[i] : buf[i];
      }
      p[i] -= c.lr() * gi;
    }
  }

  private static void assertOrdered(String what, float[] actual, float[] expected) {
    double scale = TestArrays.maxAbs(expected);
    new Tolerance(ORDERED_SLACK * scale, ORDERED_SLACK, ORDERED.basis() + ", within 2 roundings").assertClose(what + " (torch's order)", actual, expected);
  }

  private static void assertTextbook(String what, float[] actual, double[] expected, double scale) {
    new Tolerance(TEXTBOOK_SLACK * scale, TEXTBOOK_SLACK, "fp32 steps against the double-precision formulas, " + STEPS + " steps")
        .assertClose(what + " (textbook, double)", actual, expected);
  }

  private static double sumSquares(float[] a) {
    double s = 0;
    for (float f : a) {
      s += (double) f * f;
    }
    return s;
  }

  private static List<Float> boxed(float[] a) {
    Float[] b = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return List.of(b);
  }
}
