package io.github.lora4j.sched;

import java.util.OptionalLong;

/**
 * Builds {@link LearningRateSchedule}s: one factory per transformers {@code lr_scheduler_type}, named after
 * it, and {@link #byName(String)} for a type given by name. Every argument is checked at once; a bad one
 * throws {@link IllegalArgumentException} naming it and its value.
 *
 * <pre>{@code
 * FiniteSchedule cosine = Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03);   // 30 warmup steps
 * LearningRateSchedule same = Schedules.byName("cosine").learningRate(1e-4).totalSteps(1000)
 *     .warmupRatio(0.03).build();
 * }</pre>
 *
 * <p>Defaults are transformers': half a cosine wave, polynomial decay to 1e-7 with power 1, a cosine decay
 * for warmup_stable_decay, and no warmup until {@code withWarmupSteps} or {@code withWarmupRatio} adds it.
 */
public final class Schedules {

  private Schedules() {}

  /** transformers' {@code constant}: {@code learningRate} for every update. */
  public static ConstantSchedule constant(double learningRate) {
    return new ConstantSchedule(learningRate, 0);
  }

  /** transformers' {@code constant_with_warmup}: linear warmup from 0, then {@code learningRate}. */
  public static ConstantSchedule constantWithWarmup(double learningRate, long warmupSteps) {
    return new ConstantSchedule(learningRate, warmupSteps);
  }

  /** transformers' {@code linear}: from {@code learningRate} straight down to 0 at {@code totalSteps}. */
  public static LinearSchedule linear(double learningRate, long totalSteps) {
    return new LinearSchedule(learningRate, totalSteps, 0);
  }

  /** transformers' {@code cosine}: half a cosine wave from {@code learningRate} down to 0 at {@code totalSteps}. */
  public static CosineSchedule cosine(double learningRate, long totalSteps) {
    return cosine(learningRate, totalSteps, CosineSchedule.DEFAULT_CYCLES);
  }

  /** transformers' {@code cosine} with {@code num_cycles = cycles} waves over the run (0.5 is half a wave). */
  public static CosineSchedule cosine(double learningRate, long totalSteps, double cycles) {
    return new CosineSchedule(learningRate, totalSteps, 0, cycles, 0.0);
  }

  /**
   * transformers' {@code cosine_with_restarts}: {@code cycles} half cosines from {@code learningRate}
   * towards 0, each restarting at {@code learningRate}.
   */
  public static CosineWithRestartsSchedule cosineWithRestarts(double learningRate, long totalSteps, int cycles) {
    return new CosineWithRestartsSchedule(learningRate, totalSteps, 0, cycles);
  }

  /** transformers' {@code polynomial} with its defaults: linear decay to {@code lr_end = 1e-7}. */
  public static PolynomialSchedule polynomial(double learningRate, long totalSteps) {
    return polynomial(
        learningRate, totalSteps, PolynomialSchedule.DEFAULT_END_LEARNING_RATE, PolynomialSchedule.DEFAULT_POWER);
  }

  /**
   * transformers' {@code polynomial}: {@code (learningRate - endLearningRate) * remaining^power +
   * endLearningRate}, reaching {@code endLearningRate} at {@code totalSteps}.
   */
  public static PolynomialSchedule polynomial(
      double learningRate, long totalSteps, double endLearningRate, double power) {
    return new PolynomialSchedule(learningRate, totalSteps, 0, endLearningRate, power);
  }

  /**
   * transformers' {@code inverse_sqrt} with its default timescale: the warmup length, or 10 000 without
   * warmup.
   */
  public static InverseSqrtSchedule inverseSqrt(double learningRate) {
    return new InverseSqrtSchedule(learningRate, 0, OptionalLong.empty());
  }

  /** transformers' {@code inverse_sqrt} ({@code get_inverse_sqrt_schedule}) with an explicit {@code timescale}. */
  public static InverseSqrtSchedule inverseSqrt(double learningRate, long timescale) {
    return new InverseSqrtSchedule(learningRate, 0, OptionalLong.of(timescale));
  }

  /**
   * transformers' {@code warmup_stable_decay}: {@code learningRate} until the last {@code decaySteps}
   * updates, then a cosine decay to 0. Change the decay with {@link
   * WarmupStableDecaySchedule#withDecayType}, {@link WarmupStableDecaySchedule#withMinLrRatio} and the
   * other {@code with} methods.
   */
  public static WarmupStableDecaySchedule warmupStableDecay(double learningRate, long totalSteps, long decaySteps) {
    return new WarmupStableDecaySchedule(
        learningRate,
        totalSteps,
        0,
        decaySteps,
        WarmupStableDecaySchedule.DEFAULT_WARMUP_TYPE,
        WarmupStableDecaySchedule.DEFAULT_DECAY_TYPE,
        0.0,
        CosineSchedule.DEFAULT_CYCLES);
  }

  /**
   * transformers' {@code cosine_with_min_lr}: half a cosine wave from {@code learningRate} down to {@code
   * minLrRate * learningRate} at {@code totalSteps}.
   */
  public static CosineSchedule cosineWithMinLr(double learningRate, long totalSteps, double minLrRate) {
    return new CosineSchedule(learningRate, totalSteps, 0, CosineSchedule.DEFAULT_CYCLES, minLrRate);
  }

  /**
   * The warmup steps for a fraction of a run: {@code ceil(warmupRatio * totalSteps)}, the rounding of
   * transformers' {@code TrainingArguments.get_warmup_steps}. The product is taken in doubles as Python
   * does, so {@code warmupSteps(0.07, 100)} is 8, not 7.
   *
   * @throws IllegalArgumentException if the ratio is outside [0, 1] or {@code totalSteps} is not positive
   */
  public static long warmupSteps(double warmupRatio, long totalSteps) {
    Arguments.unitInterval("warmupRatio", warmupRatio);
    Arguments.positive("totalSteps", totalSteps);
    return (long) Math.ceil(totalSteps * warmupRatio);
  }

  /**
   * A builder for the schedule transformers calls {@code type}, e.g. {@code "cosine_with_restarts"}: the
   * entry point for configuration files and the command line.
   *
   * @throws IllegalArgumentException for an unknown name; the message lists the known ones
   */
  public static ScheduleBuilder byName(String type) {
    return new ScheduleBuilder(ScheduleType.fromName(type));
  }

  /** A builder for a schedule of the given type. */
  public static ScheduleBuilder builder(ScheduleType type) {
    if (type == null) {
      throw new IllegalArgumentException("type must not be null");
    }
    return new ScheduleBuilder(type);
  }
}
