package io.github.lora4j.data;

/**
 * Steele, Lea and Flood's SplitMix64 generator. Written out rather than taken from the JDK so that
 * a shuffle or a synthetic dataset is the same on every JDK: {@link java.util.SplittableRandom}
 * does not promise its sequence across releases, and a resumed run must see the same order.
 */
final class SplitMix64 {

  private long state;
  private double spareGaussian = Double.NaN;

  SplitMix64(long seed) {
    this.state = seed;
  }

  /** A generator for one (seed, stream) pair, e.g. (seed, epoch), independent of its neighbours. */
  static SplitMix64 of(long seed, long stream) {
    return new SplitMix64(mix(seed ^ mix(stream + 0x632BE59BD9B4E019L)));
  }

  long nextLong() {
    return mix(state += 0x9E3779B97F4A7C15L);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, 1). */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound), without modulo bias. */
  int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    long limit = (1L << 32) - ((1L << 32) % bound);
    long r;
    do {
      r = nextLong() >>> 32;
    } while (r >= limit);
    return (int) (r % bound);
  }

  /** Standard normal, by Box and Muller's transform (pairs, the spare kept for the next call). */
  double nextGaussian() {
    if (!Double.isNaN(spareGaussian)) {
      double g = spareGaussian;
      spareGaussian = Double.NaN;
      return g;
    }
    double u1 = 1.0 - nextDouble(); // in (0, 1], so the log is finite
    double u2 = nextDouble();
    double r = Math.sqrt(-2.0 * Math.log(u1));
    spareGaussian = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** A Fisher-Yates shuffle of {@code 0..n-1}. */
  int[] permutation(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
