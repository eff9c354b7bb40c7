package io.github.lora4j.tensor.testing;

import java.util.Random;

/** Random test data and float/double conversions for tensor tests. */
public final class TestArrays {
  private TestArrays() {}

  public static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** The largest absolute value in {@code a}, ignoring NaN; 0 for an empty array. */
  public static double maxAbs(double[] a) {
    double max = 0;
    for (double v : a) {
      if (Math.abs(v) > max) {
        max = Math.abs(v);
      }
    }
    return max;
  }

  /** The largest absolute value in {@code a}, ignoring NaN; 0 for an empty array. */
  public static double maxAbs(float[] a) {
    return maxAbs(toDouble(a));
  }

  /** {@code n} floats drawn uniformly from {@code [lo, hi)}. */
  public static float[] uniform(Random rng, int n, float lo, float hi) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + (hi - lo) * rng.nextFloat();
    }
    return a;
  }

  /** {@code n} floats from a normal distribution with mean 0 and standard deviation {@code sigma}. */
  public static float[] gaussian(Random rng, int n, double sigma) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (sigma * rng.nextGaussian());
    }
    return a;
  }

  /** {@code n} ints drawn uniformly from {@code [lo, hi)}. */
  public static int[] ints(Random rng, int n, int lo, int hi) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + rng.nextInt(hi - lo);
    }
    return a;
  }
}
