package io.github.lora4j.sched;

/**
 * transformers' {@code cosine_with_restarts}: a linear warmup from 0 to the peak, then {@code cycles}
 * half cosines from the peak towards 0, each starting again at the peak (a hard restart), and 0 from
 * {@code totalSteps} on.
 *
 * @param peakLearningRate the rate at the end of warmup and at every restart
 * @param totalSteps the update from which the rate is 0
 * @param warmupSteps the number of warmup updates, 0 for none
 * @param cycles the number of half cosines (transformers' {@code num_cycles}), >= 1
 */
public record CosineWithRestartsSchedule(double peakLearningRate, long totalSteps, long warmupSteps, int cycles)
    implements FiniteSchedule {

  /** @throws IllegalArgumentException naming the bad argument */
  public CosineWithRestartsSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.positive("totalSteps", totalSteps);
    Arguments.warmupSteps(warmupSteps, totalSteps);
    Arguments.positive("cycles", cycles);
  }

  @Override
  public ScheduleType type() {
    return ScheduleType.COSINE_WITH_RESTARTS;
  }

  /** transformers' {@code _get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    double progress = Formulas.progress(step, warmupSteps, totalSteps - warmupSteps);
    if (progress >= 1.0) {
      return 0.0;
    }
    // Python's float % and Java's % agree for the non-negative operands here.
    return Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * (((double) cycles * progress) % 1.0))));
  }

  @Override
  public CosineWithRestartsSchedule withWarmupSteps(long warmupSteps) {
    return new CosineWithRestartsSchedule(peakLearningRate, totalSteps, warmupSteps, cycles);
  }

  @Override
  public String toString() {
    return "cosine_with_restarts(lr=" + peakLearningRate
        + ", totalSteps=" + totalSteps
        + ", warmupSteps=" + warmupSteps
        + ", cycles=" + cycles
        + ")";
  }
}
