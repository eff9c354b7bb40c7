package io.github.lora4j.tensor;

import java.util.Locale;

/** Element types lora4j stores and computes in. Names follow safetensors' dtype strings. */
public enum DType {
  F32(4, "F32", true),
  F16(2, "F16", true),
  BF16(2, "BF16", true),
  I32(4, "I32", false),
  I64(8, "I64", false),
  U8(1, "U8", false);

  private final int byteSize;
  private final String safetensorsName;
  private final boolean floatingPoint;

  DType(int byteSize, String safetensorsName, boolean floatingPoint) {
    this.byteSize = byteSize;
    this.safetensorsName = safetensorsName;
    this.floatingPoint = floatingPoint;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** The dtype string in a safetensors header ("F32", "BF16", ...). */
  public String safetensorsName() {
    return safetensorsName;
  }

  public boolean isFloatingPoint() {
    return floatingPoint;
  }

  /**
   * The dtype for a safetensors header string.
   *
   * @throws IllegalArgumentException naming the string when lora4j does not support it
   */
  public static DType fromSafetensors(String name) {
    for (DType t : values()) {
      if (t.safetensorsName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'; supported: F32, F16, BF16, I32, I64, U8");
  }

  /** The dtype for a transformers/torch dtype name ("bfloat16", "float32", "torch.float16", ...). */
  public static DType fromTorchName(String name) {
    String n = name.toLowerCase(Locale.ROOT).replace("torch.", "");
    return switch (n) {
      case "float32", "float" -> F32;
      case "float16", "half" -> F16;
      case "bfloat16" -> BF16;
      case "int32", "int" -> I32;
      case "int64", "long" -> I64;
      case "uint8" -> U8;
      default -> throw new IllegalArgumentException("unsupported torch dtype '" + name + "'");
    };
  }
}
