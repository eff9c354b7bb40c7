package io.github.lora4j.sched;

/**
 * A learning-rate schedule with the semantics of Hugging Face transformers: the rate for an update is the
 * peak rate times the schedule's factor, exactly as {@code torch.optim.lr_scheduler.LambdaLR} computes
 * {@code base_lr * lr_lambda(step)} for the schedules of {@code transformers.get_scheduler}.
 *
 * <p>Steps count optimizer updates: {@code learningRate(0)} is the rate of the first update, {@code
 * learningRate(k)} the rate of the update after {@code k} completed ones (gradient accumulation does not
 * advance the step). Every schedule is an immutable value, safe to share between threads. Build one with
 * {@link Schedules}:
 *
 * <pre>{@code
 * LearningRateSchedule schedule = Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03);
 * double lr = schedule.learningRate(step);
 * }</pre>
 *
 * <p>Schedules that decay over a fixed number of steps are {@link FiniteSchedule}s; {@link
 * ConstantSchedule} and {@link InverseSqrtSchedule} go on for ever.
 */
public sealed interface LearningRateSchedule permits FiniteSchedule, ConstantSchedule, InverseSqrtSchedule {

  /** The transformers {@code lr_scheduler_type} this schedule reproduces. */
  ScheduleType type();

  /** The learning rate the schedule scales: transformers' {@code learning_rate}, the optimizer's base rate. */
  double peakLearningRate();

  /** The number of updates spent warming up; 0 for none. */
  long warmupSteps();

  /**
   * The factor {@code LambdaLR} multiplies the base rate by before update {@code step}: transformers'
   * {@code lr_lambda(step)}. Optimizers with several parameter groups apply it to each group's own base
   * rate, as {@code LambdaLR} does.
   *
   * @throws IllegalArgumentException if {@code step} is negative
   */
  double factor(long step);

  /**
   * The learning rate of the update that follows {@code step} completed updates: {@code
   * peakLearningRate() * factor(step)}.
   *
   * @throws IllegalArgumentException if {@code step} is negative
   */
  default double learningRate(long step) {
    return peakLearningRate() * factor(step);
  }

  /**
   * The same schedule with {@code warmupSteps} steps of warmup, built into the formula as transformers
   * does (the decay then spans {@code totalSteps - warmupSteps} steps), not stacked in front of it.
   *
   * @throws IllegalArgumentException if {@code warmupSteps} is negative or, for a {@link FiniteSchedule},
   *     longer than the run
   */
  LearningRateSchedule withWarmupSteps(long warmupSteps);

  /**
   * The same schedule with warmup over a fraction of a run of {@code trainingSteps} updates: {@code
   * Schedules.warmupSteps(warmupRatio, trainingSteps)} steps, as transformers' {@code
   * TrainingArguments.get_warmup_steps} computes them. For a {@link FiniteSchedule}, {@link
   * FiniteSchedule#withWarmupRatio(double)} uses its own total.
   *
   * @throws IllegalArgumentException if the ratio is outside [0, 1] or {@code trainingSteps} is not
   *     positive
   */
  default LearningRateSchedule withWarmupRatio(double warmupRatio, long trainingSteps) {
    return withWarmupSteps(Schedules.warmupSteps(warmupRatio, trainingSteps));
  }

  /**
   * One line naming the type and every parameter, e.g. {@code cosine(lr=1.0E-4, totalSteps=1000,
   * warmupSteps=30, cycles=0.5)}.
   */
  @Override
  String toString();
}
