package io.github.lora4j.sched;

/**
 * A schedule that decays over a fixed number of updates, {@link #totalSteps()} (transformers'
 * {@code num_training_steps}). Past the end each follows its transformers formula: linear stays at 0,
 * cosine keeps following its cosine, polynomial stays at its end rate.
 */
public sealed interface FiniteSchedule extends LearningRateSchedule
    permits LinearSchedule,
        CosineSchedule,
        CosineWithRestartsSchedule,
        PolynomialSchedule,
        WarmupStableDecaySchedule {

  /** The number of updates the schedule decays over: transformers' {@code num_training_steps}. */
  long totalSteps();

  @Override
  FiniteSchedule withWarmupSteps(long warmupSteps);

  /**
   * The same schedule with warmup over {@code warmupRatio} of its {@link #totalSteps()}: {@code
   * ceil(warmupRatio * totalSteps)} steps, as transformers' {@code TrainingArguments.get_warmup_steps}
   * rounds them (so 0.07 of 100 steps is 8, since 0.07 * 100 is 7.000000000000001 in doubles).
   *
   * @throws IllegalArgumentException if the ratio is outside [0, 1]
   */
  default FiniteSchedule withWarmupRatio(double warmupRatio) {
    return withWarmupSteps(Schedules.warmupSteps(warmupRatio, totalSteps()));
  }

  @Override
  default FiniteSchedule withWarmupRatio(double warmupRatio, long trainingSteps) {
    return withWarmupSteps(Schedules.warmupSteps(warmupRatio, trainingSteps));
  }
}
