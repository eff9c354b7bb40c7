package io.github.lora4j.tensor;

import java.util.Arrays;

/**
 * Block-wise 8-bit dynamic quantisation of optimizer state, as bitsandbytes' 8-bit optimizers store
 * their moments: each block of {@link #BLOCK_SIZE} values keeps its largest magnitude ({@code
 * absmax}, fp32) and each value the byte whose code is nearest to {@code value / absmax}. The codes
 * are the dynamic data type of Dettmers (arXiv:1511.04561, and bitsandbytes' {@code
 * create_dynamic_map}): a decimal exponent from 10^-6 to 10^0 and a linear fraction whose resolution
 * grows as the exponent does, so small values keep their relative precision. {@link #signedCode()}
 * (for the first moment) has 127 negative and 127 positive values, 0 and 1; {@link #unsignedCode()}
 * (for the second moment, never negative) 254 positive values, 0 and 1.
 *
 * <p>A pure function of the value, so every backend quantises the same value to the same byte: the
 * GPU kernel loads these tables and makes the same float operations.
 */
public final class DynamicQuantization {
  private DynamicQuantization() {}

  /** Values per quantisation block. */
  public static final int BLOCK_SIZE = 256;

  private static final float[] SIGNED = dynamicCode(true);
  private static final float[] UNSIGNED = dynamicCode(false);

  /**
   * The 256 codes in ascending order: for exponents {@code i = 0..6}, the midpoints of {@code
   * 2^i} (signed) or {@code 2^(i+1)} (unsigned) equal steps of [0.1, 1], times {@code 10^(i-6)},
   * mirrored for signed; then 0 and 1. Computed in double, rounded to float once.
   */
  private static float[] dynamicCode(boolean signed) {
    double[] values = new double[256];
    int n = 0;
    for (int i = 0; i < 7; i++) {
      int steps = signed ? 1 << i : 1 << (i + 1);
      double scale = Math.pow(10, i - 6);
      for (int j = 0; j < steps; j++) {
        double lo = 0.1 + 0.9 * j / steps;
        double hi = 0.1 + 0.9 * (j + 1) / steps;
        double mid = scale * (lo + hi) / 2;
        values[n++] = mid;
        if (signed) {
          values[n++] = -mid;
        }
      }
    }
    values[n++] = 0;
    values[n++] = 1;
    if (n != 256) {
      throw new AssertionError("the dynamic code has " + n + " values");
    }
    Arrays.sort(values);
    float[] code = new float[256];
    for (int k = 0; k < 256; k++) {
      code[k] = (float) values[k];
    }
    return code;
  }

  /** The first moment's code (a copy). */
  public static float[] signedCode() {
    return SIGNED.clone();
  }

  /** The second moment's code (a copy). */
  public static float[] unsignedCode() {
    return UNSIGNED.clone();
  }

  /**
   * The byte (0..255) whose code is nearest to {@code x}, a value already divided by its block's
   * absmax: binary search for the last code {@code <= x}, then the next code instead when {@code x}
   * is above the midpoint of the two, {@code (lo + hi) * 0.5f} in float. NaN gives 0.
   */
  public static int quantize(float x, float[] code) {
    int lo = 0;
    int hi = 255;
    if (!(x > code[0])) {
      return 0;
    }
    if (x >= code[255]) {
      return 255;
    }
    // Invariant: code[lo] < x < code[hi]... or code[lo] <= x; ends with hi == lo + 1.
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (code[mid] <= x) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return x > (code[lo] + code[hi]) * 0.5f ? hi : lo;
  }

  /** Number of absmax entries for {@code n} values: one per started block. */
  public static long blocks(long n) {
    return (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
  }
}
