package io.github.lora4j.sched;

import static io.github.lora4j.sched.ScheduleType.CONSTANT;
import static io.github.lora4j.sched.ScheduleType.COSINE;
import static io.github.lora4j.sched.ScheduleType.COSINE_WITH_MIN_LR;
import static io.github.lora4j.sched.ScheduleType.COSINE_WITH_RESTARTS;
import static io.github.lora4j.sched.ScheduleType.INVERSE_SQRT;
import static io.github.lora4j.sched.ScheduleType.POLYNOMIAL;
import static io.github.lora4j.sched.ScheduleType.WARMUP_STABLE_DECAY;

import io.github.lora4j.sched.WarmupStableDecaySchedule.Shape;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Builds a schedule of a type chosen at run time, from the parameters transformers' {@code
 * TrainingArguments} and {@code lr_scheduler_kwargs} would hold. Get one from {@link
 * Schedules#byName(String)}.
 *
 * <pre>{@code
 * LearningRateSchedule schedule = Schedules.byName("polynomial")
 *     .learningRate(2e-4).totalSteps(500).warmupSteps(20).power(2.0).endLearningRate(1e-6)
 *     .build();
 * }</pre>
 *
 * <p>Each setter checks its value, and that the parameter means something for the type, when it is called;
 * {@link #build()} checks what is missing and how the values fit together. Like transformers, which raises
 * a TypeError for a keyword the scheduler does not take, it refuses parameters the type does not use
 * rather than ignoring them. Not thread-safe; the schedules it builds are.
 */
public final class ScheduleBuilder {

  private final ScheduleType type;
  private Double learningRate;
  private Long totalSteps;
  private Long warmupSteps;
  private Double warmupRatio;
  private Double cycles;
  private Double power;
  private Double endLearningRate;
  private Long timescale;
  private Long decaySteps;
  private Shape decayType;
  private Shape warmupType;
  private Double minLrRate;

  ScheduleBuilder(ScheduleType type) {
    this.type = type;
  }

  /** The type this builder builds. */
  public ScheduleType type() {
    return type;
  }

  /** The peak learning rate (transformers' {@code learning_rate}); required. */
  public ScheduleBuilder learningRate(double learningRate) {
    this.learningRate = Arguments.learningRate("learningRate", learningRate);
    return this;
  }

  /**
   * The number of updates in the run (transformers' {@code num_training_steps}): required for the types
   * that decay over the run; for {@code constant_with_warmup} and {@code inverse_sqrt} only the base of
   * {@link #warmupRatio}.
   */
  public ScheduleBuilder totalSteps(long totalSteps) {
    this.totalSteps = Arguments.positive("totalSteps", totalSteps);
    return this;
  }

  /** The number of warmup updates (transformers' {@code warmup_steps} as a whole number); exclusive with {@link #warmupRatio}. */
  public ScheduleBuilder warmupSteps(long warmupSteps) {
    Arguments.nonNegative("warmupSteps", warmupSteps);
    if (warmupRatio != null) {
      throw new IllegalArgumentException(
          "warmupSteps and warmupRatio are mutually exclusive; warmupRatio is already " + warmupRatio);
    }
    refuseConstantWarmup(warmupSteps > 0, "warmupSteps", warmupSteps);
    this.warmupSteps = warmupSteps;
    return this;
  }

  /**
   * Warmup over a fraction of {@link #totalSteps}, rounded up (transformers' {@code warmup_ratio}, or a
   * {@code warmup_steps} below 1 in transformers 5); exclusive with {@link #warmupSteps}.
   */
  public ScheduleBuilder warmupRatio(double warmupRatio) {
    Arguments.unitInterval("warmupRatio", warmupRatio);
    if (warmupSteps != null) {
      throw new IllegalArgumentException(
          "warmupSteps and warmupRatio are mutually exclusive; warmupSteps is already " + warmupSteps);
    }
    refuseConstantWarmup(warmupRatio > 0, "warmupRatio", warmupRatio);
    this.warmupRatio = warmupRatio;
    return this;
  }

  /**
   * transformers' {@code num_cycles}: cosine waves for {@code cosine}, {@code cosine_with_min_lr} and a
   * cosine decay of {@code warmup_stable_decay} (default 0.5); restarts for {@code cosine_with_restarts}
   * (a whole number, default 1).
   */
  public ScheduleBuilder cycles(double cycles) {
    appliesTo("cycles", COSINE, COSINE_WITH_MIN_LR, COSINE_WITH_RESTARTS, WARMUP_STABLE_DECAY);
    Arguments.positiveFinite("cycles", cycles);
    if (type == COSINE_WITH_RESTARTS && (cycles != Math.rint(cycles) || cycles > Integer.MAX_VALUE)) {
      throw new IllegalArgumentException("cycles must be a whole number for cosine_with_restarts: " + cycles);
    }
    this.cycles = cycles;
    return this;
  }

  /** transformers' {@code power} of {@code polynomial} (default 1.0). */
  public ScheduleBuilder power(double power) {
    appliesTo("power", POLYNOMIAL);
    this.power = Arguments.positiveFinite("power", power);
    return this;
  }

  /** transformers' {@code lr_end} of {@code polynomial} (default 1e-7). */
  public ScheduleBuilder endLearningRate(double endLearningRate) {
    appliesTo("endLearningRate", POLYNOMIAL);
    this.endLearningRate = Arguments.learningRate("endLearningRate", endLearningRate);
    return this;
  }

  /** transformers' {@code timescale} of {@code inverse_sqrt} (default: the warmup steps, or 10 000). */
  public ScheduleBuilder timescale(long timescale) {
    appliesTo("timescale", INVERSE_SQRT);
    this.timescale = Arguments.positive("timescale", timescale);
    return this;
  }

  /** transformers' {@code num_decay_steps} of {@code warmup_stable_decay}; required for it. */
  public ScheduleBuilder decaySteps(long decaySteps) {
    appliesTo("decaySteps", WARMUP_STABLE_DECAY);
    this.decaySteps = Arguments.nonNegative("decaySteps", decaySteps);
    return this;
  }

  /** transformers' {@code decay_type} of {@code warmup_stable_decay}: linear, cosine (default) or 1-sqrt. */
  public ScheduleBuilder decayType(String decayType) {
    appliesTo("decayType", WARMUP_STABLE_DECAY);
    this.decayType = Shape.fromName("decayType", decayType);
    return this;
  }

  /** transformers' {@code warmup_type} of {@code warmup_stable_decay}: linear (default), cosine or 1-sqrt. */
  public ScheduleBuilder warmupType(String warmupType) {
    appliesTo("warmupType", WARMUP_STABLE_DECAY);
    this.warmupType = Shape.fromName("warmupType", warmupType);
    return this;
  }

  /**
   * The lowest rate as a fraction of the peak: transformers' {@code min_lr_rate} of {@code
   * cosine_with_min_lr} (required for it) and {@code min_lr_ratio} of {@code warmup_stable_decay} (default
   * 0).
   */
  public ScheduleBuilder minLrRate(double minLrRate) {
    appliesTo("minLrRate", COSINE_WITH_MIN_LR, WARMUP_STABLE_DECAY);
    this.minLrRate = Arguments.unitInterval("minLrRate", minLrRate);
    return this;
  }

  /**
   * The schedule.
   *
   * @throws IllegalArgumentException if a required parameter is missing or the values do not fit together
   *     (e.g. warmup longer than the run)
   */
  public LearningRateSchedule build() {
    double lr = required("learningRate", learningRate);
    long warmup = resolveWarmup();
    return switch (type) {
      case CONSTANT, CONSTANT_WITH_WARMUP -> new ConstantSchedule(lr, warmup);
      case LINEAR -> new LinearSchedule(lr, total(), warmup);
      case COSINE -> new CosineSchedule(lr, total(), warmup, orElse(cycles, CosineSchedule.DEFAULT_CYCLES), 0.0);
      case COSINE_WITH_MIN_LR ->
          new CosineSchedule(
              lr,
              total(),
              warmup,
              orElse(cycles, CosineSchedule.DEFAULT_CYCLES),
              // transformers raises when neither min_lr nor min_lr_rate is given.
              required("minLrRate", minLrRate));
      case COSINE_WITH_RESTARTS ->
          new CosineWithRestartsSchedule(lr, total(), warmup, (int) orElse(cycles, 1.0).doubleValue());
      case POLYNOMIAL ->
          new PolynomialSchedule(
              lr,
              total(),
              warmup,
              orElse(endLearningRate, PolynomialSchedule.DEFAULT_END_LEARNING_RATE),
              orElse(power, PolynomialSchedule.DEFAULT_POWER));
      case INVERSE_SQRT ->
          new InverseSqrtSchedule(lr, warmup, timescale == null ? OptionalLong.empty() : OptionalLong.of(timescale));
      case WARMUP_STABLE_DECAY ->
          new WarmupStableDecaySchedule(
              lr,
              total(),
              warmup,
              required("decaySteps", decaySteps),
              orElse(warmupType, WarmupStableDecaySchedule.DEFAULT_WARMUP_TYPE),
              orElse(decayType, WarmupStableDecaySchedule.DEFAULT_DECAY_TYPE),
              orElse(minLrRate, 0.0),
              orElse(cycles, CosineSchedule.DEFAULT_CYCLES));
    };
  }

  private long resolveWarmup() {
    if (warmupRatio != null) {
      if (totalSteps == null) {
        throw new IllegalArgumentException("warmupRatio needs totalSteps to count from, and none was given");
      }
      return Schedules.warmupSteps(warmupRatio, totalSteps);
    }
    return warmupSteps == null ? 0 : warmupSteps;
  }

  private long total() {
    return required("totalSteps", totalSteps);
  }

  private <T> T required(String name, T value) {
    if (value == null) {
      throw new IllegalArgumentException(name + " is required for " + type.hfName());
    }
    return value;
  }

  private static <T> T orElse(T value, T fallback) {
    return value == null ? fallback : value;
  }

  private void appliesTo(String parameter, ScheduleType... types) {
    if (Arrays.asList(types).contains(type)) {
      return;
    }
    String which = Arrays.stream(types).map(ScheduleType::hfName).collect(Collectors.joining(", "));
    throw new IllegalArgumentException(parameter + " does not apply to " + type.hfName() + "; it applies to " + which);
  }

  // transformers' get_scheduler("constant", ...) drops num_warmup_steps without a word; refusing it is
  // kinder than reproducing that.
  private void refuseConstantWarmup(boolean hasWarmup, String parameter, Object value) {
    if (type == CONSTANT && hasWarmup) {
      throw new IllegalArgumentException(
          parameter + " does not apply to constant, which transformers runs without warmup; use"
              + " constant_with_warmup: " + value);
    }
  }
}
