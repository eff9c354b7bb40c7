package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
 * {@code cachedAttention} (see {@link OpContract}): a sequence fed through the cache in chunks, a
 * prefill and then one or a few positions at a time, must give the rows of {@code attention} over
 * the whole sequence with the key mask as its segments, and leave every key and value in the cache.
 * The arithmetic is the forward of {@link AttentionContract}, so its bound applies.
 */
public abstract class CachedAttentionContract extends OpContract {

  @Property(tries = 40)
  void chunksThroughTheCacheEqualFullAttention(
      @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
      @ForAll @IntRange(min = 1, max = 2) int hkv, @ForAll @IntRange(min = 1, max = 3) int group,
      @ForAll @IntRange(min = 1, max = 4) int halfD, @ForAll @IntRange(min = 0, max = 2) int spare, @ForAll long seed) {
    Random rng = new Random(seed);
    int capacity = t + spare;
    // Left padding, as a batch of prompts of different lengths has it.
    int[] seg = new int[b * t];
    int[] keyMask = new int[b * capacity];
    for (int row = 0; row < b; row++) {
      int pad = rng.nextInt(t / 2 + 1);
      for (int i = pad; i < t; i++) {
        seg[row * t + i] = 1;
        keyMask[row * capacity + i] = 1;
      }
    }
    AttentionContract.Case c = AttentionContract.Case.random(rng, b, t, hkv, group, 2 * halfD, seg, this::stored);
    double[] expected = c.reference(GradientCheck.inputs(c.q(), c.k(), c.v()));
    int d = c.d();
    int hq = c.hq();
    Tolerance tol = tolerance(AttentionContract.FORWARD, 3, TestArrays.maxAbs(c.v()), "probabilities and the output rounded; |out| <= max|v|");
    try (Scope _ = backend().scope()) {
      Tensor kCache = backend().zeros(Shape.of(b, capacity, hkv, d), activationType());
      Tensor vCache = backend().zeros(Shape.of(b, capacity, hkv, d), activationType());
      Tensor mask = backend().fromInts(keyMask, Shape.of(b, capacity));
      int start = 0;
      while (start < t) {
        int tq = start == 0 ? 1 + rng.nextInt(t) : Math.min(t - start, 1 + rng.nextInt(3));
        try (Scope _ = backend().scope()) {
          Tensor q = upload(rows(c.q(), b, t, hq * d, start, tq), Shape.of(b, tq, hq, d));
          Tensor k = upload(rows(c.k(), b, t, hkv * d, start, tq), Shape.of(b, tq, hkv, d));
          Tensor v = upload(rows(c.v(), b, t, hkv * d, start, tq), Shape.of(b, tq, hkv, d));
          Tensor out = backend().cachedAttention(q, k, v, kCache, vCache, mask, start, c.scale());
          assertEquals(Shape.of(b, tq, hq, d), out.shape());
          tol.assertClose("cachedAttention rows [" + start + ", " + (start + tq) + ")", download("cachedAttention out", out), rows(expected, b, t, hq * d, start, tq));
        }
        start += tq;
      }
      assertEquals(Arrays.toString(padded(c.k(), b, t, capacity, hkv * d)), Arrays.toString(backend().toFloats(kCache)), "the key cache holds every key");
      assertEquals(Arrays.toString(padded(c.v(), b, t, capacity, hkv * d)), Arrays.toString(backend().toFloats(vCache)), "the value cache holds every value");
    }
  }

  @Example
  void positionsPastTheCacheAreRefused() {
    try (Scope _ = backend().scope()) {
      Tensor q = backend().zeros(Shape.of(1, 2, 2, 4), activationType());
      Tensor k = backend().zeros(Shape.of(1, 2, 1, 4), activationType());
      Tensor cache = backend().zeros(Shape.of(1, 3, 1, 4), activationType());
      Tensor mask = backend().fromInts(new int[] {1, 1, 1}, Shape.of(1, 3));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend().cachedAttention(q, k, k, cache, cache, mask, 2, 0.5f));
      assertEquals(true, e.getMessage().contains("[2, 4)"), e.getMessage());
    }
  }

  /** Positions {@code [start, start + count)} of every row of a {@code [b, t, width]} array. */
  private static float[] rows(float[] all, int b, int t, int width, int start, int count) {
    float[] out = new float[b * count * width];
    for (int row = 0; row < b; row++) {
      System.arraycopy(all, (row * t + start) * width, out, row * count * width, count * width);
    }
    return out;
  }

  private static double[] rows(double[] all, int b, int t, int width, int start, int count) {
    double[] out = new double[b * count * width];
    for (int row = 0; row < b; row++) {
      System.arraycopy(all, (row * t + start) * width, out, row * count * width, count * width);
    }
    return out;
  }

  /** {@code [b, t, width]} placed in a zeroed {@code [b, capacity, width]}. */
  private static float[] padded(float[] all, int b, int t, int capacity, int width) {
    float[] out = new float[b * capacity * width];
    for (int row = 0; row < b; row++) {
      System.arraycopy(all, row * t * width, out, row * capacity * width, t * width);
    }
    return out;
  }
}
