package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.AttentionContract;
import io.github.lora4j.tensor.testing.GradientCheck;
import io.github.lora4j.tensor.testing.ReferenceOps;
import io.github.lora4j.tensor.testing.Tolerance;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The attention contract on the CPU, and what the CPU backend saves for the backward: the probabilities. */
class AttentionTest extends AttentionContract {
  /** A softmax over <= 8 keys of fp32 dot products of length <= 8. */
  static final Tolerance PROBS = new Tolerance(2e-6, 1e-5);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  @Override
  protected DType activationType() {
    return DType.F32;
  }

  @Property(tries = 20)
  void savesTheProbabilities(
      @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 8) int t,
      @ForAll @IntRange(min = 1, max = 2) int hkv, @ForAll @IntRange(min = 1, max = 3) int group,
      @ForAll @IntRange(min = 0, max = 2) int maskKind, @ForAll long seed) {
    Random rng = new Random(seed);
    Case c = randomCase(rng, b, t, hkv, group, 4, segments(rng, b, t, maskKind));
    try (Scope _ = backend.scope()) {
      Uploaded in = upload(c);
      AttentionOutput out = backend.attention(in.q(), in.k(), in.v(), in.seg(), c.scale());
      assertEquals(Shape.of(b, c.hq(), t, t), out.saved().shape());
      double[][] qkv = GradientCheck.inputs(c.q(), c.k(), c.v());
      PROBS.assertClose("attention probs", backend.toFloats(out.saved()),
          ReferenceOps.attentionProbs(qkv[0], qkv[1], b, t, c.hq(), hkv, c.d(), c.seg(), c.scale()));
    }
  }

  @Example
  void aQueryInAnotherSegmentGetsProbabilityZero() {
    int[] seg = {1, 2, 0};
    Case c = randomCase(new Random(5), 1, 3, 1, 1, 2, seg);
    try (Scope _ = backend.scope()) {
      Uploaded in = upload(c);
      float[] probs = backend.toFloats(backend.attention(in.q(), in.k(), in.v(), in.seg(), c.scale()).saved());
      assertEquals(0f, probs[3 * 1 + 0], "query 1 (segment 2) does not see key 0 (segment 1)");
      assertEquals(1f, probs[3 * 1 + 1], "query 1 sees only itself");
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
