package io.github.lora4j.optim;

/**
 * Argument checks of the builders. Every message names the field and the value it got, e.g. {@code
 * "beta1 must be in [0, 1): 1.5"}, so a caller can fix the call from the message alone.
 */
final class Arguments {
  private Arguments() {}

  /** Finite and not negative; written so that NaN fails too. */
  static double nonNegative(String name, double value) {
    if (!(value >= 0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(name + " must be finite and >= 0: " + value);
    }
    return value;
  }

  static double positive(String name, double value) {
    if (!(value > 0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(name + " must be finite and > 0: " + value);
    }
    return value;
  }

  /** A decay rate such as Adam's betas: torch accepts [0, 1). */
  static double beta(String name, double value) {
    if (!(value >= 0 && value < 1)) {
      throw new IllegalArgumentException(name + " must be in [0, 1): " + value);
    }
    return value;
  }

  static long positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0: " + value);
    }
    return value;
  }

  static <T> T notNull(String name, T value) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return value;
  }
}
