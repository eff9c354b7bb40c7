package io.github.lora4j.sched;

/**
 * transformers' {@code cosine} and {@code cosine_with_min_lr}: a linear warmup from 0 to the peak, then
 * {@code cycles} waves of a cosine (0.5, the default, is a half wave from the peak down to the minimum at
 * {@code totalSteps}), rescaled so that its bottom is {@code minLrRate} times the peak.
 *
 * <p>Both transformers types share one lambda, so {@code cosine_with_min_lr} with {@code minLrRate} 0 is
 * exactly {@code cosine}, and {@link #type()} says {@code cosine} for it. Past {@code totalSteps} the rate
 * keeps following the cosine, as in transformers: with 0.5 cycles it climbs back up.
 *
 * @param peakLearningRate the rate at the end of warmup
 * @param totalSteps the number of updates the waves span, counted from step 0
 * @param warmupSteps the number of warmup updates, 0 for none
 * @param cycles the number of cosine waves after warmup (transformers' {@code num_cycles}), > 0
 * @param minLrRate the lowest rate as a fraction of the peak (transformers' {@code min_lr_rate}), in [0, 1]
 */
public record CosineSchedule(double peakLearningRate, long totalSteps, long warmupSteps, double cycles, double minLrRate)
    implements FiniteSchedule {

  /** transformers' default {@code num_cycles}: half a wave, from the peak down to the minimum. */
  public static final double DEFAULT_CYCLES = 0.5;

  /** @throws IllegalArgumentException naming the bad argument */
  public CosineSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.positive("totalSteps", totalSteps);
    Arguments.warmupSteps(warmupSteps, totalSteps);
    Arguments.positiveFinite("cycles", cycles);
    Arguments.unitInterval("minLrRate", minLrRate);
  }

  @Override
  public ScheduleType type() {
    return minLrRate == 0 ? ScheduleType.COSINE : ScheduleType.COSINE_WITH_MIN_LR;
  }

  /** transformers' {@code _get_cosine_schedule_with_warmup_lr_lambda} (the variant with {@code min_lr_rate}). */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    double progress = Formulas.progress(step, warmupSteps, totalSteps - warmupSteps);
    return Math.max(0.0, Formulas.aboveMinimum(Formulas.cosineWave(cycles, progress), minLrRate));
  }

  @Override
  public CosineSchedule withWarmupSteps(long warmupSteps) {
    return new CosineSchedule(peakLearningRate, totalSteps, warmupSteps, cycles, minLrRate);
  }

  @Override
  public String toString() {
    return type().hfName()
        + "(lr=" + peakLearningRate
        + ", totalSteps=" + totalSteps
        + ", warmupSteps=" + warmupSteps
        + ", cycles=" + cycles
        + (minLrRate == 0 ? "" : ", minLrRate=" + minLrRate)
        + ")";
  }
}
