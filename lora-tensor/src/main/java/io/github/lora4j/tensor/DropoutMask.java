package io.github.lora4j.tensor;

/**
 * The dropout mask as a pure function of (seed, element index), so that the backward pass and every
 * backend (Java here, a CUDA kernel on the GPU) regenerate exactly the same mask without storing it.
 * The hash is SplitMix64's finaliser applied to {@code seed + (index + 1) * golden gamma}.
 */
public final class DropoutMask {
  private DropoutMask() {}

  private static final long GAMMA = 0x9E3779B97F4A7C15L;

  /** A uniform 32-bit draw for element {@code index}, as an unsigned value in [0, 2^32). */
  public static long draw(long seed, long index) {
    long z = seed + (index + 1) * GAMMA;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return z >>> 32;
  }

  /** The threshold below which a draw drops the element: {@code round(p * 2^32)}. */
  public static long threshold(float p) {
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1): " + p);
    }
    return Math.round((double) p * 4294967296.0);
  }

  /** Whether element {@code index} is kept. */
  public static boolean keep(long seed, long index, long threshold) {
    return draw(seed, index) >= threshold;
  }
}
