package io.github.lora4j.tensor.cpu;

import io.github.lora4j.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reading the 16- and 32-bit float formats lora4j stores, and rounding fp32 values to the precision
 * of a 16-bit format. The CPU backend computes and stores in fp32 only, so a BF16 or F16 tensor is
 * held as fp32 values that a real BF16 or F16 tensor could hold.
 */
final class FloatFormat {
  private FloatFormat() {}

  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Element {@code i} of little-endian raw data of float type {@code type}, widened to float. */
  static float read(MemorySegment src, long i, DType type) {
    return switch (type) {
      case F32 -> src.getAtIndex(F32_LE, i);
      case BF16 -> bf16ToFloat(src.getAtIndex(I16_LE, i));
      case F16 -> Float.float16ToFloat(src.getAtIndex(I16_LE, i));
      default -> throw new IllegalArgumentException(type + " is not a float type");
    };
  }

  /** {@code v} rounded to nearest-even in {@code precision} (F32 leaves it unchanged). */
  static float round(float v, DType precision) {
    return switch (precision) {
      case F32 -> v;
      case BF16 -> bf16ToFloat(floatToBf16(v));
      case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
      default -> throw new IllegalArgumentException(precision + " is not a float type");
    };
  }

  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** Round to nearest even, as torch's {@code c10::BFloat16} does; NaN stays a (quiet) NaN. */
  static short floatToBf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7FFF + lsb) >>> 16);
  }
}
