package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DropoutMask;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code dropout} and {@code dropoutBackward}: the mask is {@link DropoutMask}'s and the scale is
 * {@code 1f / (1f - p)}, so every backend agrees bit for bit; in bf16 the fp32 product is rounded
 * once, and the expected value is rounded the same way (see {@link OpContract}).
 */
public abstract class DropoutContract extends OpContract {

  /** Bit-exact: element i is x[i] times 1 / (1 - p) when DropoutMask keeps it and times 0 (so -0 for negative x) otherwise. */
  @Property(tries = 30)
  void maskIsExactlyTheHashOfSeedAndFlatIndex(
      @ForAll @IntRange(min = 1, max = 5) int a, @ForAll @IntRange(min = 1, max = 5) int b, @ForAll @IntRange(min = 1, max = 40) int c,
      @ForAll @FloatRange(min = 0.01f, max = 0.95f) float p, @ForAll long seed) {
    float[] x = stored(TestArrays.gaussian(new Random(seed), a * b * c, 1));
    long threshold = DropoutMask.threshold(p);
    float scale = 1f / (1f - p);
    try (Scope _ = backend().scope()) {
      Tensor xt = upload(x, Shape.of(a, b, c));
      float[] out = download("dropout", backend().dropout(xt, p, seed));
      for (int i = 0; i < x.length; i++) {
        float expected = storedOutput(x[i] * (DropoutMask.keep(seed, i, threshold) ? scale : 0f));
        assertEquals(expected, out[i], "element " + i + " with p " + p + " (scale 1f / (1f - p) = " + scale + ") seed " + seed);
      }
      assertArrayEquals(out, download("dropout", backend().dropout(xt, p, seed)), "the same seed gives the same mask");
      assertArrayEquals(out, download("dropoutBackward", backend().dropoutBackward(xt, p, seed)), "the backward applies the same mask");
    }
  }

  @Example
  void keepRateIsWithinStatisticalBounds() {
    int n = 200_000;
    float[] ones = new float[n];
    Arrays.fill(ones, 1f);
    try (Scope _ = backend().scope()) {
      Tensor x = upload(ones, Shape.of(n));
      for (float p : new float[] {0.05f, 0.1f, 0.5f, 0.9f}) {
        for (long seed : new long[] {0, 1, 12345}) {
          float[] out = download("dropout", backend().dropout(x, p, seed));
          int kept = 0;
          for (float v : out) {
            if (v != 0f) {
              kept++;
            }
          }
          double rate = (double) kept / n;
          double sigma = Math.sqrt(p * (1 - p) / n);
          assertTrue(Math.abs(rate - (1 - p)) < 5 * sigma,
              "p " + p + " seed " + seed + ": kept " + rate + ", expected " + (1 - p) + " +- " + 5 * sigma);
        }
      }
      float[] a = download("dropout", backend().dropout(x, 0.5f, 1));
      float[] b = download("dropout", backend().dropout(x, 0.5f, 2));
      assertFalse(Arrays.equals(a, b), "different seeds give different masks");
    }
  }

  @Example
  void zeroProbabilityReturnsACopy() {
    try (Scope _ = backend().scope()) {
      Tensor x = upload(new float[] {1, 2, 3}, Shape.of(3));
      Tensor y = backend().dropout(x, 0f, 9);
      assertArrayEquals(new float[] {1, 2, 3}, download("dropout", y));
      backend().zeroInPlace(y);
      assertArrayEquals(new float[] {1, 2, 3}, download("dropout input", x));
    }
  }

  @Property(tries = 20)
  void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 50) int n, @ForAll @FloatRange(min = 0.05f, max = 0.9f) float p, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = stored(TestArrays.gaussian(rng, n, 1));
    float[] r = stored(TestArrays.gaussian(rng, n, 1));
    try (Scope _ = backend().scope()) {
      Tensor dx = backend().dropoutBackward(upload(r, Shape.of(n)), p, seed);
      double[] numeric = GradientCheck.numeric(GradientCheck.weightedSum(a -> ReferenceOps.dropout(a[0], p, seed), TestArrays.toDouble(r)), GradientCheck.inputs(x), 0);
      // The op is linear: the finite difference is exact up to double rounding, the backend's product one
      // fp32 rounding, and in bf16 one more rounding of the product (c = 2).
      tolerance(new Tolerance(1e-6, 1e-6), 2, TestArrays.maxAbs(numeric), "dOut * scale rounded once")
          .assertClose("dropout backward", download("dropout backward", dx), numeric);
    }
  }
}
