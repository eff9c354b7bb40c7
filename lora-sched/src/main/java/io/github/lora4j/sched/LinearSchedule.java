package io.github.lora4j.sched;

/**
 * transformers' {@code linear}: a linear warmup from 0 to the peak, then a straight line down to 0 at
 * {@code totalSteps}, and 0 after it.
 *
 * @param peakLearningRate the rate at the end of warmup
 * @param totalSteps the update at which the rate reaches 0
 * @param warmupSteps the number of warmup updates, 0 for none
 */
public record LinearSchedule(double peakLearningRate, long totalSteps, long warmupSteps) implements FiniteSchedule {

  /** @throws IllegalArgumentException naming the bad argument */
  public LinearSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.positive("totalSteps", totalSteps);
    Arguments.warmupSteps(warmupSteps, totalSteps);
  }

  @Override
  public ScheduleType type() {
    return ScheduleType.LINEAR;
  }

  /** transformers' {@code _get_linear_schedule_with_warmup_lr_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    return Math.max(0.0, (double) (totalSteps - step) / (double) Math.max(1, totalSteps - warmupSteps));
  }

  @Override
  public LinearSchedule withWarmupSteps(long warmupSteps) {
    return new LinearSchedule(peakLearningRate, totalSteps, warmupSteps);
  }

  @Override
  public String toString() {
    return "linear(lr=" + peakLearningRate + ", totalSteps=" + totalSteps + ", warmupSteps=" + warmupSteps + ")";
  }
}
