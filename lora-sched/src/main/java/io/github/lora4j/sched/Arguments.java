package io.github.lora4j.sched;

/**
 * Argument checks shared by the schedules and their builder. Every message names the argument and the
 * value it got, e.g. {@code "warmupRatio must be in [0, 1]: 1.5"}, so a caller can fix the call from the
 * message alone.
 */
final class Arguments {

  private Arguments() {}

  /** A learning rate: finite and not negative (transformers accepts 0, so lora4j does too). */
  static double learningRate(String name, double value) {
    if (!Double.isFinite(value) || value < 0) {
      throw new IllegalArgumentException(name + " must be finite and >= 0: " + value);
    }
    return value;
  }

  static double positiveFinite(String name, double value) {
    if (!Double.isFinite(value) || value <= 0) {
      throw new IllegalArgumentException(name + " must be finite and > 0: " + value);
    }
    return value;
  }

  /** A fraction such as a warmup ratio or a minimum learning-rate ratio. */
  static double unitInterval(String name, double value) {
    // Written so that NaN fails too.
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException(name + " must be in [0, 1]: " + value);
    }
    return value;
  }

  static long positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0: " + value);
    }
    return value;
  }

  static long nonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0: " + value);
    }
    return value;
  }

  /** Warmup may fill the whole run but not outlast it. */
  static long warmupSteps(long warmupSteps, long totalSteps) {
    nonNegative("warmupSteps", warmupSteps);
    if (warmupSteps > totalSteps) {
      throw new IllegalArgumentException(
          "warmupSteps must be <= totalSteps (" + totalSteps + "): " + warmupSteps);
    }
    return warmupSteps;
  }
}
