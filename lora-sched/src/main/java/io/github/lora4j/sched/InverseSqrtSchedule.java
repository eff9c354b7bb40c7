package io.github.lora4j.sched;

import java.util.OptionalLong;

/**
 * transformers' {@code inverse_sqrt}: a linear warmup from 0 to the peak, then {@code peak /
 * sqrt((step + timescale - warmupSteps) / timescale)}, which is the peak at the end of warmup and falls
 * as one over the square root of the step for ever.
 *
 * <p>Without an explicit timescale transformers uses {@code num_warmup_steps or 10_000}: the warmup length,
 * or 10 000 when there is no warmup; {@link #effectiveTimescale()} gives the one in use. (transformers 5
 * takes it from {@code lr_scheduler_kwargs}; 4.x's {@code get_scheduler} dropped it, so there only a
 * direct call of {@code get_inverse_sqrt_schedule} could set it.)
 *
 * @param peakLearningRate the rate at the end of warmup
 * @param warmupSteps the number of warmup updates, 0 for none
 * @param timescale the timescale in updates, or empty for transformers' default
 */
public record InverseSqrtSchedule(double peakLearningRate, long warmupSteps, OptionalLong timescale)
    implements LearningRateSchedule {

  /** transformers' timescale when there is neither a timescale nor warmup. */
  public static final long DEFAULT_TIMESCALE = 10_000;

  /** @throws IllegalArgumentException naming the bad argument */
  public InverseSqrtSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.nonNegative("warmupSteps", warmupSteps);
    if (timescale == null) {
      throw new IllegalArgumentException("timescale must not be null; use OptionalLong.empty() for the default");
    }
    timescale.ifPresent(t -> Arguments.positive("timescale", t));
  }

  /** The timescale the formula uses: the explicit one, else the warmup length, else 10 000. */
  public long effectiveTimescale() {
    return timescale.orElse(warmupSteps > 0 ? warmupSteps : DEFAULT_TIMESCALE);
  }

  @Override
  public ScheduleType type() {
    return ScheduleType.INVERSE_SQRT;
  }

  /** transformers' {@code _get_inverse_sqrt_schedule_lr_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    long timescale = effectiveTimescale();
    long shift = timescale - warmupSteps;
    // Added in doubles so that a huge step cannot overflow; exact below 2^53, where Python's ints agree.
    return 1.0 / Math.sqrt(((double) step + (double) shift) / (double) timescale);
  }

  @Override
  public InverseSqrtSchedule withWarmupSteps(long warmupSteps) {
    return new InverseSqrtSchedule(peakLearningRate, warmupSteps, timescale);
  }

  @Override
  public String toString() {
    return "inverse_sqrt(lr=" + peakLearningRate
        + ", warmupSteps=" + warmupSteps
        + ", timescale=" + effectiveTimescale()
        + ")";
  }
}
