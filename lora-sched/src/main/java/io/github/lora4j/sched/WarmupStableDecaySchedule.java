package io.github.lora4j.sched;

import java.util.Arrays;
import java.util.List;

/**
 * transformers' {@code warmup_stable_decay} ({@code get_wsd_schedule}): a warmup from {@code minLrRatio}
 * times the peak up to the peak, a stable phase at the peak, then a decay over the last {@code
 * decaySteps} updates back down to {@code minLrRatio} times the peak, where the rate stays.
 *
 * <p>The stable phase is what the run has left: {@code totalSteps - warmupSteps - decaySteps} updates,
 * as transformers derives {@code num_stable_steps} from {@code num_training_steps}. Unlike the other
 * schedules, the warmup here starts at the minimum, not at 0, and may be shaped like the decay.
 *
 * <pre>{@code
 * Schedules.warmupStableDecay(1e-4, 1000, 200)
 *     .withDecayType(WarmupStableDecaySchedule.Shape.ONE_MINUS_SQRT)
 *     .withWarmupSteps(50);
 * }</pre>
 *
 * @param peakLearningRate the rate of the stable phase
 * @param totalSteps the length of the run: warmup, stable and decay together
 * @param warmupSteps the number of warmup updates, 0 for none
 * @param decaySteps the number of decay updates at the end of the run (transformers' {@code num_decay_steps})
 * @param warmupType the shape of the warmup (transformers' {@code warmup_type}, default linear)
 * @param decayType the shape of the decay (transformers' {@code decay_type}, default cosine)
 * @param minLrRatio where warmup starts and decay ends, as a fraction of the peak (transformers' {@code
 *     min_lr_ratio}), in [0, 1]
 * @param cycles the waves of a cosine decay (transformers' {@code num_cycles}, default 0.5), > 0
 */
public record WarmupStableDecaySchedule(
    double peakLearningRate,
    long totalSteps,
    long warmupSteps,
    long decaySteps,
    Shape warmupType,
    Shape decayType,
    double minLrRatio,
    double cycles)
    implements FiniteSchedule {

  /** The ramp shapes of transformers' {@code warmup_type} and {@code decay_type}. */
  public enum Shape {
    /** Warmup {@code p}, decay {@code 1 - p}, for progress {@code p} through the phase. */
    LINEAR("linear"),
    /** Warmup {@code 0.5 * (1 - cos(pi * p))}, decay {@code 0.5 * (1 + cos(pi * cycles * 2 * p))}. */
    COSINE("cosine"),
    /** Warmup {@code 1 - sqrt(1 - p)}, decay {@code 1 - sqrt(p)}. */
    ONE_MINUS_SQRT("1-sqrt");

    private final String hfName;

    Shape(String hfName) {
      this.hfName = hfName;
    }

    /** The name transformers uses: {@code linear}, {@code cosine} or {@code 1-sqrt}. */
    public String hfName() {
      return hfName;
    }

    /**
     * The shape transformers calls {@code name}.
     *
     * @param argument what the name is for, e.g. {@code "decayType"}, for the message
     * @throws IllegalArgumentException naming the argument and the known shapes
     */
    public static Shape fromName(String argument, String name) {
      for (Shape shape : values()) {
        if (shape.hfName.equals(name)) {
          return shape;
        }
      }
      List<String> known = Arrays.stream(values()).map(Shape::hfName).toList();
      throw new IllegalArgumentException(
          argument + " must be one of " + String.join(", ", known) + ": " + (name == null ? "null" : "'" + name + "'"));
    }

    @Override
    public String toString() {
      return hfName;
    }
  }

  /** transformers' default {@code warmup_type}. */
  public static final Shape DEFAULT_WARMUP_TYPE = Shape.LINEAR;

  /** transformers' default {@code decay_type}. */
  public static final Shape DEFAULT_DECAY_TYPE = Shape.COSINE;

  /** @throws IllegalArgumentException naming the bad argument */
  public WarmupStableDecaySchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.positive("totalSteps", totalSteps);
    Arguments.warmupSteps(warmupSteps, totalSteps);
    Arguments.nonNegative("decaySteps", decaySteps);
    if (warmupSteps + decaySteps > totalSteps) {
      throw new IllegalArgumentException(
          "warmupSteps + decaySteps must be <= totalSteps (" + totalSteps + "): "
              + warmupSteps + " + " + decaySteps + " = " + (warmupSteps + decaySteps));
    }
    if (warmupType == null) {
      throw new IllegalArgumentException("warmupType must not be null");
    }
    if (decayType == null) {
      throw new IllegalArgumentException("decayType must not be null");
    }
    Arguments.unitInterval("minLrRatio", minLrRatio);
    Arguments.positiveFinite("cycles", cycles);
  }

  /** The updates at the peak between warmup and decay. */
  public long stableSteps() {
    return totalSteps - warmupSteps - decaySteps;
  }

  @Override
  public ScheduleType type() {
    return ScheduleType.WARMUP_STABLE_DECAY;
  }

  /** transformers' {@code _get_wsd_scheduler_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      double progress = Formulas.progress(step, 0, warmupSteps);
      double factor =
          switch (warmupType) {
            case LINEAR -> progress;
            case COSINE -> 0.5 * (1.0 - StrictMath.cos(Math.PI * progress));
            case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(1.0 - progress);
          };
      return Math.max(0.0, Formulas.aboveMinimum(factor, minLrRatio));
    }
    long decayStart = warmupSteps + stableSteps();
    if (step < decayStart) {
      return 1.0;
    }
    if (step < decayStart + decaySteps) {
      double progress = Formulas.progress(step, decayStart, decaySteps);
      double factor =
          switch (decayType) {
            case LINEAR -> 1.0 - progress;
            case COSINE -> Formulas.cosineWave(cycles, progress);
            case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(progress);
          };
      return Math.max(0.0, Formulas.aboveMinimum(factor, minLrRatio));
    }
    return minLrRatio;
  }

  @Override
  public WarmupStableDecaySchedule withWarmupSteps(long warmupSteps) {
    return new WarmupStableDecaySchedule(
        peakLearningRate, totalSteps, warmupSteps, decaySteps, warmupType, decayType, minLrRatio, cycles);
  }

  /** The same schedule with another decay shape. */
  public WarmupStableDecaySchedule withDecayType(Shape decayType) {
    return new WarmupStableDecaySchedule(
        peakLearningRate, totalSteps, warmupSteps, decaySteps, warmupType, decayType, minLrRatio, cycles);
  }

  /** The same schedule with another warmup shape. */
  public WarmupStableDecaySchedule withWarmupType(Shape warmupType) {
    return new WarmupStableDecaySchedule(
        peakLearningRate, totalSteps, warmupSteps, decaySteps, warmupType, decayType, minLrRatio, cycles);
  }

  /** The same schedule starting and ending at {@code minLrRatio} times the peak. */
  public WarmupStableDecaySchedule withMinLrRatio(double minLrRatio) {
    return new WarmupStableDecaySchedule(
        peakLearningRate, totalSteps, warmupSteps, decaySteps, warmupType, decayType, minLrRatio, cycles);
  }

  /** The same schedule with {@code cycles} waves in a cosine decay. */
  public WarmupStableDecaySchedule withCycles(double cycles) {
    return new WarmupStableDecaySchedule(
        peakLearningRate, totalSteps, warmupSteps, decaySteps, warmupType, decayType, minLrRatio, cycles);
  }

  @Override
  public String toString() {
    return "warmup_stable_decay(lr=" + peakLearningRate
        + ", totalSteps=" + totalSteps
        + ", warmupSteps=" + warmupSteps
        + ", decaySteps=" + decaySteps
        + ", warmupType=" + warmupType.hfName
        + ", decayType=" + decayType.hfName
        + ", minLrRatio=" + minLrRatio
        + (decayType == Shape.COSINE ? ", cycles=" + cycles : "")
        + ")";
  }
}
