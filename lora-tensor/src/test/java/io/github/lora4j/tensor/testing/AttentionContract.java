package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import java.util.function.UnaryOperator;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Causal grouped-query {@code attention} with segments and padding, and {@code attentionBackward}
 * (see {@link OpContract}). What a backend saves for the backward is its own business: only the
 * output and the gradients are checked.
 *
 * <p>bf16, forward: the probabilities {@code P} are stored in bf16 (relative error {@code u} each)
 * and then multiplied by {@code v} in fp32, and the output is rounded. Since a row of {@code P} sums
 * to 1, rounding P moves the output by at most {@code u max|v|}, and {@code |out| <= max|v|}: {@code
 * c = 3} (two roundings and slack), {@code S = max |v|}.
 *
 * <p>bf16, backward: with {@code dP = dOut v^T} (fp32), the score gradient {@code dS = scale P (dP -
 * D)}, {@code D = rowsum(P dP)}, is computed from the bf16 {@code P} and rounded when written. With
 * {@code A_i = sum_j P_ij |dP_ij|} (so {@code |D_i| <= A_i}), rounding P moves {@code dS_ij} by at
 * most {@code u scale P_ij (|dP_ij| + A_i)} directly and as much again through {@code D_i}, and
 * rounding {@code dS_ij} itself as much once more: {@code |error of dS_ij| <= 3 u w_ij} with {@code
 * w_ij = scale P_ij (|dP_ij| + A_i)}. The gradients are sums of these with q or k, rounded when
 * written, and for dk and dv first per query head and then over the heads of a group:
 *
 * <ul>
 *   <li>{@code dq_i = sum_j dS_ij k_j}: {@code <= 3u + u} times {@code S = max sum_j w_ij |k_j|}; {@code c = 5}.
 *   <li>{@code dk_j = sum_heads sum_i dS_ij q_i}: {@code <= 3u + u + u} times {@code S = max sum_h sum_i w_ij |q_i|}; {@code c = 6}.
 *   <li>{@code dv_j = sum_heads sum_i P_ij dOut_i}: {@code <= u + u + u} times {@code S = max sum_h sum_i P_ij |dOut_i|}; {@code c = 4}.
 * </ul>
 *
 * Each {@code c} is the count above plus one for slack, and each {@code S} is computed from the
 * reference probabilities ({@link #termMagnitudes}). Emulating CudaBackend's bf16 pipeline (P and dS
 * stored in bf16, per-head dk and dv rounded before the head sum) in double on 30,000 cases of these
 * tests' shapes needed at most {@code c = 0.72} (out), 0.80 (dq), 0.66 (dk) and 1.04 (dv).
 */
public abstract class AttentionContract extends OpContract {
  /** Dot products of length <= 8, a softmax over <= 8 keys and a weighted sum of values, in fp32. */
  static final Tolerance FORWARD = new Tolerance(2e-6, 1e-5);
  static final Tolerance GRADIENT = new Tolerance(2e-5, 1e-4);

  /** Segment maps: 0 none (null), 1 an attention mask with left or right padding, 2 packed examples with padding. */
  protected static int[] segments(Random rng, int b, int t, int kind) {
    if (kind == 0) {
      return null;
    }
    int[] seg = new int[b * t];
    for (int row = 0; row < b; row++) {
      int leftPad = rng.nextInt(t / 2 + 1);
      int rightPad = rng.nextInt(t / 3 + 1);
      int id = 1;
      for (int i = leftPad; i < t - rightPad; i++) {
        if (kind == 2 && i > leftPad && rng.nextInt(3) == 0) {
          id++;
        }
        seg[row * t + i] = id;
      }
    }
    return seg;
  }

  /** Two rows: [0, 1, .., 1, 2, .., 2] (left padding) and [1, .., 1, 2, .., 2, 0] (right padding). */
  protected static int[] twoPackedSegmentsWithPadding(int t) {
    int[] seg = new int[2 * t];
    int split = t / 2;
    for (int i = 1; i < t; i++) {
      seg[i] = i < split + 1 ? 1 : 2;
    }
    for (int i = 0; i < t - 1; i++) {
      seg[t + i] = i < split ? 1 : 2;
    }
    return seg;
  }

  /** One attention call's inputs, q, k and v already rounded to the activation type. */
  public record Case(int b, int t, int hq, int hkv, int d, float[] q, float[] k, float[] v, int[] seg, float scale) {
    /** Unit normal q, k, v with {@code hq = hkv * group} and the usual {@code 1 / sqrt(d)} scale, passed through {@code round}. */
    public static Case random(Random rng, int b, int t, int hkv, int group, int d, int[] seg, UnaryOperator<float[]> round) {
      int hq = hkv * group;
      return new Case(b, t, hq, hkv, d,
          round.apply(TestArrays.gaussian(rng, b * t * hq * d, 1)), round.apply(TestArrays.gaussian(rng, b * t * hkv * d, 1)),
          round.apply(TestArrays.gaussian(rng, b * t * hkv * d, 1)), seg, (float) (1 / Math.sqrt(d)));
    }

    public Shape qShape() {
      return Shape.of(b, t, hq, d);
    }

    public Shape kvShape() {
      return Shape.of(b, t, hkv, d);
    }

    public double[] reference(double[][] qkv) {
      return ReferenceOps.attention(qkv[0], qkv[1], qkv[2], b, t, hq, hkv, d, seg, scale);
    }
  }

  /** q, k, v and segments of {@code c} on the backend. */
  protected record Uploaded(Tensor q, Tensor k, Tensor v, Tensor seg) {}

  protected final Uploaded upload(Case c) {
    return new Uploaded(upload(c.q(), c.qShape()), upload(c.k(), c.kvShape()), upload(c.v(), c.kvShape()),
        c.seg() == null ? null : backend().fromInts(c.seg(), Shape.of(c.b(), c.t())));
  }

  protected final Case randomCase(Random rng, int b, int t, int hkv, int group, int d, int[] seg) {
    return Case.random(rng, b, t, hkv, group, d, seg, this::stored);
  }

  private Tolerance forward(Case c) {
    return tolerance(FORWARD, 3, TestArrays.maxAbs(c.v()), "probabilities rounded, then P v rounded; |out| <= max|v|");
  }

  /**
   * The sizes of the terms that make up dq, dk and dv (see the class comment): the largest over
   * elements of {@code sum_j w_ij |k_j|}, {@code sum_h sum_i w_ij |q_i|} and {@code sum_h sum_i P_ij
   * |dOut_i|}, with {@code w_ij = scale P_ij (|dP_ij| + sum_k P_ik |dP_ik|)} and {@code dP = dOut
   * v^T}.
   */
  protected static double[] termMagnitudes(Case c, float[] dOut) {
    int b = c.b(), t = c.t(), hq = c.hq(), hkv = c.hkv(), d = c.d();
    int group = hq / hkv;
    double[][] qkv = GradientCheck.inputs(c.q(), c.k(), c.v());
    double[] probs = ReferenceOps.attentionProbs(qkv[0], qkv[1], b, t, hq, hkv, d, c.seg(), c.scale());
    double[] dq = new double[c.q().length];
    double[] dk = new double[c.k().length];
    double[] dv = new double[c.v().length];
    double[] absDp = new double[t];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < hq; h++) {
        for (int i = 0; i < t; i++) {
          int qRow = ((bi * t + i) * hq + h) * d;
          double a = 0;
          for (int j = 0; j < t; j++) {
            int kvRow = ((bi * t + j) * hkv + h / group) * d;
            double dp = 0;
            for (int e = 0; e < d; e++) {
              dp += (double) dOut[qRow + e] * c.v()[kvRow + e];
            }
            absDp[j] = Math.abs(dp);
            a += probs[((bi * hq + h) * t + i) * t + j] * absDp[j];
          }
          for (int j = 0; j < t; j++) {
            double p = probs[((bi * hq + h) * t + i) * t + j];
            int kvRow = ((bi * t + j) * hkv + h / group) * d;
            double w = c.scale() * p * (absDp[j] + a);
            for (int e = 0; e < d; e++) {
              dq[qRow + e] += w * Math.abs(c.k()[kvRow + e]);
              dk[kvRow + e] += w * Math.abs(c.q()[qRow + e]);
              dv[kvRow + e] += p * Math.abs(dOut[qRow + e]);
            }
          }
        }
      }
    }
    return new double[] {TestArrays.maxAbs(dq), TestArrays.maxAbs(dk), TestArrays.maxAbs(dv)};
  }

  @Property(tries = 40)
  void forwardMatchesReference(
      @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 8) int t,
      @ForAll @IntRange(min = 1, max = 2) int hkv, @ForAll @IntRange(min = 1, max = 3) int group,
      @ForAll @IntRange(min = 1, max = 4) int halfD, @ForAll @IntRange(min = 0, max = 2) int maskKind, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = randomCase(rng, b, t, hkv, group, 2 * halfD, segments(rng, b, t, maskKind));
    try (Scope _ = backend().scope()) {
      Uploaded in = upload(c);
      AttentionOutput out = backend().attention(in.q(), in.k(), in.v(), in.seg(), c.scale());
      assertEquals(c.qShape(), out.out().shape());
      forward(c).assertClose("attention out", download("attention out", out.out()), c.reference(GradientCheck.inputs(c.q(), c.k(), c.v())));
    }
  }

  @Property(tries = 25)
  void backwardMatchesFiniteDifferencesWithGqaPaddingAndPacking(
      @ForAll @IntRange(min = 5, max = 7) int t, @ForAll @IntRange(min = 1, max = 2) int hkv,
      @ForAll @IntRange(min = 2, max = 3) int group, @ForAll @IntRange(min = 1, max = 2) int halfD, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = randomCase(rng, 2, t, hkv, group, 2 * halfD, twoPackedSegmentsWithPadding(t));
    checkGradients(c, stored(TestArrays.gaussian(rng, c.q().length, 1)));
  }

  @Property(tries = 15)
  void backwardMatchesFiniteDifferencesWithoutSegments(
      @ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 1, max = 3) int group, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = randomCase(rng, 1, t, 2, group, 4, null);
    checkGradients(c, stored(TestArrays.gaussian(rng, c.q().length, 1)));
  }

  private void checkGradients(Case c, float[] r) {
    try (Scope _ = backend().scope()) {
      Uploaded in = upload(c);
      AttentionOutput out = backend().attention(in.q(), in.k(), in.v(), in.seg(), c.scale());
      AttentionGrads g = backend().attentionBackward(upload(r, c.qShape()), in.q(), in.k(), in.v(), in.seg(), c.scale(), out);
      assertEquals(c.qShape(), g.dq().shape());
      assertEquals(c.kvShape(), g.dk().shape());
      assertEquals(c.kvShape(), g.dv().shape());
      var loss = GradientCheck.weightedSum(c::reference, TestArrays.toDouble(r));
      double[][] qkv = GradientCheck.inputs(c.q(), c.k(), c.v());
      double[] dq = GradientCheck.numeric(loss, qkv, 0);
      double[] dk = GradientCheck.numeric(loss, qkv, 1);
      double[] dv = GradientCheck.numeric(loss, qkv, 2);
      double[] terms = termMagnitudes(c, r);
      tolerance(GRADIENT, 5, terms[0], "P and dS rounded, then dS k rounded; S = max sum_j w_ij |k_j|")
          .assertClose("attention dq", download("attention dq", g.dq()), dq);
      tolerance(GRADIENT, 6, terms[1], "P and dS rounded, dS^T q rounded per head, then the sum over heads; S = max sum_h sum_i w_ij |q_i|")
          .assertClose("attention dk", download("attention dk", g.dk()), dk);
      tolerance(GRADIENT, 4, terms[2], "P rounded, P^T dOut rounded per head, then the sum over heads; S = max sum_h sum_i P_ij |dOut_i|")
          .assertClose("attention dv", download("attention dv", g.dv()), dv);
    }
  }

  /** Zeros of either sign: a sum of zero-weighted products may be -0. */
  @Example
  void aQueryThatSeesNoKeyOutputsZerosAndGetsZeroGradients() {
    Random rng = new Random(11);
    // Left padding: queries 0 and 1 are padding with no real key at or before them.
    Case c = randomCase(rng, 1, 4, 1, 2, 2, new int[] {0, 0, 1, 1});
    try (Scope _ = backend().scope()) {
      Uploaded in = upload(c);
      AttentionOutput out = backend().attention(in.q(), in.k(), in.v(), in.seg(), c.scale());
      float[] o = download("attention out", out.out());
      int rowWidth = c.hq() * c.d();
      for (int i = 0; i < 2 * rowWidth; i++) {
        assertEquals(0f, o[i], 0f, "output of padding query, element " + i);
      }
      Tensor dOut = upload(stored(TestArrays.gaussian(rng, o.length, 1)), c.qShape());
      AttentionGrads g = backend().attentionBackward(dOut, in.q(), in.k(), in.v(), in.seg(), c.scale(), out);
      float[] dq = download("attention dq", g.dq());
      for (int i = 0; i < 2 * rowWidth; i++) {
        assertEquals(0f, dq[i], 0f, "dq of padding query, element " + i);
      }
    }
  }

  @Example
  void paddingQueriesAfterASegmentSeeEveryEarlierRealKey() {
    // Per the contract a query at padding (segment 0) sees all earlier non-padding keys, of any segment.
    int[] seg = {1, 2, 0};
    assertEquals(true, ReferenceOps.attends(seg, 0, 2, 0));
    assertEquals(true, ReferenceOps.attends(seg, 0, 2, 1));
    assertEquals(false, ReferenceOps.attends(seg, 0, 2, 2));
    assertEquals(false, ReferenceOps.attends(seg, 0, 1, 0));
    Case c = randomCase(new Random(5), 1, 3, 1, 1, 2, seg);
    try (Scope _ = backend().scope()) {
      Uploaded in = upload(c);
      float[] out = download("attention out", backend().attention(in.q(), in.k(), in.v(), in.seg(), c.scale()).out());
      double[] expected = c.reference(GradientCheck.inputs(c.q(), c.k(), c.v()));
      forward(c).assertClose("attention out", out, expected);
      // Query 1 (segment 2) sees only itself, so its output is v[1] exactly up to the rounding of out.
      forward(c).assertClose("query 1 (segment 2) does not see key 0 (segment 1)",
          new double[] {out[2], out[3]}, new double[] {c.v()[2], c.v()[3]});
    }
  }
}
