package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
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

class AttentionTest {
  /** Dot products of length <= 8, a softmax over <= 8 keys and a weighted sum of values, in fp32. */
  static final Tolerance FORWARD = new Tolerance(2e-6, 1e-5);
  static final Tolerance GRADIENT = new Tolerance(2e-5, 1e-4);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** Segment maps: 0 none (null), 1 an attention mask with left or right padding, 2 packed examples with padding. */
  static int[] segments(Random rng, int b, int t, int kind) {
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
  static int[] twoPackedSegmentsWithPadding(int t) {
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

  record Case(int b, int t, int hq, int hkv, int d, float[] q, float[] k, float[] v, int[] seg, float scale) {
    static Case random(Random rng, int b, int t, int hkv, int group, int d, int[] seg) {
      int hq = hkv * group;
      return new Case(b, t, hq, hkv, d,
          TestArrays.gaussian(rng, b * t * hq * d, 1), TestArrays.gaussian(rng, b * t * hkv * d, 1),
          TestArrays.gaussian(rng, b * t * hkv * d, 1), seg, (float) (1 / Math.sqrt(d)));
    }

    Tensor qt() {
      return backend.fromFloats(q, Shape.of(b, t, hq, d), DType.F32);
    }

    Tensor kt() {
      return backend.fromFloats(k, Shape.of(b, t, hkv, d), DType.F32);
    }

    Tensor vt() {
      return backend.fromFloats(v, Shape.of(b, t, hkv, d), DType.F32);
    }

    Tensor segt() {
      return seg == null ? null : backend.fromInts(seg, Shape.of(b, t));
    }

    double[] reference(double[][] qkv) {
      return ReferenceOps.attention(qkv[0], qkv[1], qkv[2], b, t, hq, hkv, d, seg, scale);
    }
  }

  @Property(tries = 40)
  void forwardMatchesReference(
      @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 8) int t,
      @ForAll @IntRange(min = 1, max = 2) int hkv, @ForAll @IntRange(min = 1, max = 3) int group,
      @ForAll @IntRange(min = 1, max = 4) int halfD, @ForAll @IntRange(min = 0, max = 2) int maskKind, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = Case.random(rng, b, t, hkv, group, 2 * halfD, segments(rng, b, t, maskKind));
    try (Scope _ = backend.scope()) {
      AttentionOutput out = backend.attention(c.qt(), c.kt(), c.vt(), c.segt(), c.scale());
      double[][] qkv = GradientCheck.inputs(c.q(), c.k(), c.v());
      FORWARD.assertClose("attention out", backend.toFloats(out.out()), c.reference(qkv));
      assertEquals(Shape.of(b, c.hq(), t, t), out.saved().shape());
      FORWARD.assertClose("attention probs", backend.toFloats(out.saved()),
          ReferenceOps.attentionProbs(qkv[0], qkv[1], b, t, c.hq(), hkv, c.d(), c.seg(), c.scale()));
    }
  }

  @Property(tries = 25)
  void backwardMatchesFiniteDifferencesWithGqaPaddingAndPacking(
      @ForAll @IntRange(min = 5, max = 7) int t, @ForAll @IntRange(min = 1, max = 2) int hkv,
      @ForAll @IntRange(min = 2, max = 3) int group, @ForAll @IntRange(min = 1, max = 2) int halfD, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = Case.random(rng, 2, t, hkv, group, 2 * halfD, twoPackedSegmentsWithPadding(t));
    checkGradients(c, TestArrays.gaussian(rng, c.q().length, 1));
  }

  @Property(tries = 15)
  void backwardMatchesFiniteDifferencesWithoutSegments(
      @ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 1, max = 3) int group, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = Case.random(rng, 1, t, 2, group, 4, null);
    checkGradients(c, TestArrays.gaussian(rng, c.q().length, 1));
  }

  private static void checkGradients(Case c, float[] r) {
    try (Scope _ = backend.scope()) {
      Tensor q = c.qt();
      Tensor k = c.kt();
      Tensor v = c.vt();
      Tensor seg = c.segt();
      AttentionOutput out = backend.attention(q, k, v, seg, c.scale());
      AttentionGrads g = backend.attentionBackward(backend.fromFloats(r, q.shape(), DType.F32), q, k, v, seg, c.scale(), out);
      assertEquals(k.shape(), g.dk().shape());
      var loss = GradientCheck.weightedSum(c::reference, TestArrays.toDouble(r));
      double[][] qkv = GradientCheck.inputs(c.q(), c.k(), c.v());
      GRADIENT.assertClose("attention dq", backend.toFloats(g.dq()), GradientCheck.numeric(loss, qkv, 0));
      GRADIENT.assertClose("attention dk", backend.toFloats(g.dk()), GradientCheck.numeric(loss, qkv, 1));
      GRADIENT.assertClose("attention dv", backend.toFloats(g.dv()), GradientCheck.numeric(loss, qkv, 2));
    }
  }

  @Example
  void aQueryThatSeesNoKeyOutputsZerosAndGetsZeroGradients() {
    Random rng = new Random(11);
    // Left padding: queries 0 and 1 are padding with no real key at or before them.
    Case c = Case.random(rng, 1, 4, 1, 2, 2, new int[] {0, 0, 1, 1});
    try (Scope _ = backend.scope()) {
      Tensor q = c.qt();
      Tensor k = c.kt();
      Tensor v = c.vt();
      Tensor seg = c.segt();
      AttentionOutput out = backend.attention(q, k, v, seg, c.scale());
      float[] o = backend.toFloats(out.out());
      int rowWidth = c.hq() * c.d();
      for (int i = 0; i < 2 * rowWidth; i++) {
        assertEquals(0f, o[i], "output of padding query, element " + i);
      }
      AttentionGrads g = backend.attentionBackward(backend.fromFloats(TestArrays.gaussian(rng, o.length, 1), q.shape(), DType.F32), q, k, v, seg, c.scale(), out);
      float[] dq = backend.toFloats(g.dq());
      for (int i = 0; i < 2 * rowWidth; i++) {
        assertEquals(0f, dq[i], "dq of padding query, element " + i);
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
    Case c = Case.random(new Random(5), 1, 3, 1, 1, 2, seg);
    try (Scope _ = backend.scope()) {
      float[] probs = backend.toFloats(backend.attention(c.qt(), c.kt(), c.vt(), c.segt(), c.scale()).saved());
      FORWARD.assertClose("probs", probs, ReferenceOps.attentionProbs(
          GradientCheck.inputs(c.q())[0], GradientCheck.inputs(c.k())[0], 1, 3, 1, 1, 2, seg, c.scale()));
      assertEquals(0f, probs[3 * 1 + 0], "query 1 (segment 2) does not see key 0 (segment 1)");
    }
  }

  @Example
  void rejectsBadShapes() {
    try (Scope _ = backend.scope()) {
      Tensor q = backend.zeros(Shape.of(1, 4, 4, 2), DType.F32);
      Tensor k3 = backend.zeros(Shape.of(1, 4, 3, 2), DType.F32);
      var heads = assertThrows(IllegalArgumentException.class, () -> backend.attention(q, k3, k3, null, 1f));
      assertEquals("attention: k has 3 kv heads, which does not divide q's 4 heads", heads.getMessage());
      Tensor k = backend.zeros(Shape.of(1, 4, 2, 2), DType.F32);
      Tensor v = backend.zeros(Shape.of(1, 4, 2, 4), DType.F32);
      var vShape = assertThrows(IllegalArgumentException.class, () -> backend.attention(q, k, v, null, 1f));
      assertEquals("attention: k [1, 4, 2, 2] and v [1, 4, 2, 4] must have the same shape", vShape.getMessage());
      Tensor kLong = backend.zeros(Shape.of(1, 5, 2, 2), DType.F32);
      var seq = assertThrows(IllegalArgumentException.class, () -> backend.attention(q, kLong, kLong, null, 1f));
      assertEquals("attention: k [1, 5, 2, 2] must have q [1, 4, 4, 2]'s batch and sequence dims", seq.getMessage());
      var seg = assertThrows(IllegalArgumentException.class, () -> backend.attention(q, k, k, backend.fromInts(new int[3], Shape.of(1, 3)), 1f));
      assertEquals("attention: segments must be [1, 4], got [1, 3]", seg.getMessage());
      AttentionOutput out = backend.attention(q, k, k, null, 1f);
      var dOut = assertThrows(IllegalArgumentException.class, () -> backend.attentionBackward(k, q, k, k, null, 1f, out));
      assertEquals("attentionBackward: dOut [1, 4, 2, 2] and q [1, 4, 4, 2] must have the same shape", dOut.getMessage());
    }
  }
}
