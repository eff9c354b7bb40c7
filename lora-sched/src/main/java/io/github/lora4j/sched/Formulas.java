package io.github.lora4j.sched;

/**
 * The pieces of transformers' schedule lambdas (src/transformers/optimization.py) that several schedules
 * share. Each is written with the same operations in the same order as the Python, so that the doubles
 * agree with it to the last bit wherever the JDK's and C's cos, sqrt and pow agree.
 */
final class Formulas {

  private Formulas() {}

  static void checkStep(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0: " + step);
    }
  }

  /** {@code float(current_step) / float(max(1, num_warmup_steps))}: 0 at step 0, just below 1 at the last warmup step. */
  static double linearWarmup(long step, long warmupSteps) {
    return (double) step / (double) Math.max(1, warmupSteps);
  }

  /**
   * How far into a phase of {@code length} steps that starts at {@code start} the step is: {@code
   * float(current_step - start) / float(max(1, length))}. The max(1, ...) makes a phase of zero steps
   * count as one, as transformers does, instead of dividing by zero.
   */
  static double progress(long step, long start, long length) {
    return (double) (step - start) / (double) Math.max(1, length);
  }

  /**
   * transformers' cosine factor {@code 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 *
   * progress))}; with num_cycles = 0.5 it falls from 1 to 0 as progress goes from 0 to 1. StrictMath makes
   * the value the same on every JVM and CPU.
   */
  static double cosineWave(double cycles, double progress) {
    return 0.5 * (1.0 + StrictMath.cos(Math.PI * cycles * 2.0 * progress));
  }

  /** Rescales a factor in [0, 1] to [minRatio, 1]: {@code factor * (1 - min_lr_rate) + min_lr_rate}. */
  static double aboveMinimum(double factor, double minRatio) {
    return factor * (1 - minRatio) + minRatio;
  }
}
