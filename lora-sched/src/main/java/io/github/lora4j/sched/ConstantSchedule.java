package io.github.lora4j.sched;

/**
 * transformers' {@code constant} (no warmup) and {@code constant_with_warmup}: a linear warmup from 0,
 * then the peak rate for ever.
 *
 * @param peakLearningRate the rate after warmup
 * @param warmupSteps the number of warmup updates, 0 for none
 */
public record ConstantSchedule(double peakLearningRate, long warmupSteps) implements LearningRateSchedule {

  /** @throws IllegalArgumentException naming the bad argument */
  public ConstantSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.nonNegative("warmupSteps", warmupSteps);
  }

  @Override
  public ScheduleType type() {
    return warmupSteps == 0 ? ScheduleType.CONSTANT : ScheduleType.CONSTANT_WITH_WARMUP;
  }

  /** transformers' {@code _get_constant_schedule_with_warmup_lr_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    return 1.0;
  }

  @Override
  public ConstantSchedule withWarmupSteps(long warmupSteps) {
    return new ConstantSchedule(peakLearningRate, warmupSteps);
  }

  @Override
  public String toString() {
    return warmupSteps == 0
        ? "constant(lr=" + peakLearningRate + ")"
        : "constant_with_warmup(lr=" + peakLearningRate + ", warmupSteps=" + warmupSteps + ")";
  }
}
