package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.DropoutMask;
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
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class DropoutTest {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** Known draws, for checking another implementation of the hash (the CUDA kernel) against this one. */
  @Example
  void maskHashHasKnownValues() {
    assertEquals(3184996902L, DropoutMask.draw(42, 0));
    assertEquals(686809907L, DropoutMask.draw(42, 1));
    assertEquals(1196582743L, DropoutMask.draw(42, 2));
    assertEquals(1478287871L, DropoutMask.draw(42, 3));
    assertEquals(429496736L, DropoutMask.threshold(0.1f));
  }

  /** Bit-exact: element i is x[i] times 1 / (1 - p) when DropoutMask keeps it and times 0 (so -0 for negative x) otherwise. */
  @Property(tries = 30)
  void maskIsExactlyTheHashOfSeedAndFlatIndex(
      @ForAll @IntRange(min = 1, max = 5) int a, @ForAll @IntRange(min = 1, max = 5) int b, @ForAll @IntRange(min = 1, max = 40) int c,
      @ForAll @FloatRange(min = 0.01f, max = 0.95f) float p, @ForAll long seed) {
    float[] x = TestArrays.gaussian(new Random(seed), a * b * c, 1);
    long threshold = DropoutMask.threshold(p);
    float scale = 1f / (1f - p);
    try (Scope _ = backend.scope()) {
      Tensor xt = backend.fromFloats(x, Shape.of(a, b, c), DType.F32);
      float[] out = backend.toFloats(backend.dropout(xt, p, seed));
      for (int i = 0; i < x.length; i++) {
        float expected = x[i] * (DropoutMask.keep(seed, i, threshold) ? scale : 0f);
        assertEquals(expected, out[i], "element " + i + " with p " + p + " seed " + seed);
      }
      assertArrayEquals(out, backend.toFloats(backend.dropout(xt, p, seed)), "the same seed gives the same mask");
      assertArrayEquals(out, backend.toFloats(backend.dropoutBackward(xt, p, seed)), "the backward applies the same mask");
    }
  }

  @Example
  void keepRateIsWithinStatisticalBounds() {
    int n = 200_000;
    float[] ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    try (Scope _ = backend.scope()) {
      Tensor x = backend.fromFloats(ones, Shape.of(n), DType.F32);
      for (float p : new float[] {0.05f, 0.1f, 0.5f, 0.9f}) {
        for (long seed : new long[] {0, 1, 12345}) {
          float[] out = backend.toFloats(backend.dropout(x, p, seed));
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
      float[] a = backend.toFloats(backend.dropout(x, 0.5f, 1));
      float[] b = backend.toFloats(backend.dropout(x, 0.5f, 2));
      assertFalse(java.util.Arrays.equals(a, b), "different seeds give different masks");
    }
  }

  @Example
  void zeroProbabilityReturnsACopy() {
    try (Scope _ = backend.scope()) {
      Tensor x = backend.fromFloats(new float[] {1, 2, 3}, Shape.of(3), DType.F32);
      Tensor y = backend.dropout(x, 0f, 9);
      assertArrayEquals(new float[] {1, 2, 3}, backend.toFloats(y));
      backend.zeroInPlace(y);
      assertArrayEquals(new float[] {1, 2, 3}, backend.toFloats(x));
    }
  }

  @Property(tries = 20)
  void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 50) int n, @ForAll @FloatRange(min = 0.05f, max = 0.9f) float p, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = TestArrays.gaussian(rng, n, 1);
    float[] r = TestArrays.gaussian(rng, n, 1);
    try (Scope _ = backend.scope()) {
      Tensor dx = backend.dropoutBackward(backend.fromFloats(r, Shape.of(n), DType.F32), p, seed);
      double[] numeric = GradientCheck.numeric(GradientCheck.weightedSum(a -> ReferenceOps.dropout(a[0], p, seed), TestArrays.toDouble(r)), GradientCheck.inputs(x), 0);
      // The op is linear: the finite difference is exact up to double rounding, the backend's product one fp32 rounding.
      new Tolerance(1e-6, 1e-6).assertClose("dropout backward", backend.toFloats(dx), numeric);
    }
  }

  @Example
  void rejectsBadProbabilities() {
    try (Scope _ = backend.scope()) {
      Tensor x = backend.zeros(Shape.of(2), DType.F32);
      var e = assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, 1f, 0));
      assertEquals("dropout: p must be in [0, 1): 1.0", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, Float.NaN, 0));
      assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, -0.1f, 0));
    }
  }
}
