package io.github.lora4j.tensor.testing;

import io.github.lora4j.tensor.DType;

/**
 * Rounds fp32 values to the precision of a float dtype with round-to-nearest-even, as {@link
 * io.github.lora4j.tensor.Backend#fromFloats} does on upload, written here independently of any
 * backend so that tests can compute their references on exactly the values a backend holds.
 */
public final class FloatRounding {
  private FloatRounding() {}

  /**
   * The largest relative error of one rounding to {@code dtype}: half a unit in the last place at
   * 1, {@code 2^-p} for {@code p} significant bits (F32 24, F16 11, BF16 8).
   */
  public static double unitRoundoff(DType dtype) {
    return switch (dtype) {
      case F32 -> 0x1p-24;
      case F16 -> 0x1p-11;
      case BF16 -> 0x1p-8;
      default -> throw new IllegalArgumentException(dtype + " is not a float type");
    };
  }

  /** {@code v} rounded to nearest-even in {@code dtype}'s precision, widened back to float (F32 leaves it unchanged). */
  public static float round(float v, DType dtype) {
    return switch (dtype) {
      case F32 -> v;
      case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
      case BF16 -> Float.intBitsToFloat(bf16Bits(v) << 16);
      default -> throw new IllegalArgumentException(dtype + " is not a float type");
    };
  }

  /** Every value of {@code values} rounded with {@link #round(float, DType)}; a new array. */
  public static float[] round(float[] values, DType dtype) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = round(values[i], dtype);
    }
    return out;
  }

  /**
   * The bf16 bit pattern of {@code v}, rounded to nearest even: bf16 is the top half of an fp32, so
   * add half of the dropped 16 bits' range, minus one unless the kept part is odd (ties to even),
   * and let the carry round up. NaN stays a quiet NaN instead of carrying into the exponent.
   */
  public static int bf16Bits(float v) {
    int bits = Float.floatToRawIntBits(v);
    if (Float.isNaN(v)) {
      return (bits >>> 16 | 0x40) & 0xFFFF;
    }
    int keptLsb = (bits >>> 16) & 1;
    return ((bits + 0x7FFF + keptLsb) >>> 16) & 0xFFFF;
  }
}
