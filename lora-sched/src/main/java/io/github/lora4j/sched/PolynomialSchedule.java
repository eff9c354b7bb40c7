package io.github.lora4j.sched;

/**
 * transformers' {@code polynomial}: a linear warmup from 0 to the peak, then a polynomial decay {@code
 * (peak - end) * remaining^power + end} down to {@code endLearningRate} at {@code totalSteps}, and {@code
 * endLearningRate} after it.
 *
 * <p>transformers computes the factor as {@code decay / lr_init} and LambdaLR multiplies it back by the
 * peak; this record does the same, so its rates round as transformers' do.
 *
 * @param peakLearningRate the rate at the end of warmup (transformers' {@code lr_init}, the optimizer's lr)
 * @param totalSteps the update at which the rate reaches {@code endLearningRate}
 * @param warmupSteps the number of warmup updates; less than {@code totalSteps}
 * @param endLearningRate the final rate (transformers' {@code lr_end}), in [0, peak)
 * @param power the exponent of the decay, > 0; 1 is linear
 */
public record PolynomialSchedule(
    double peakLearningRate, long totalSteps, long warmupSteps, double endLearningRate, double power)
    implements FiniteSchedule {

  /** transformers' default {@code lr_end}. */
  public static final double DEFAULT_END_LEARNING_RATE = 1e-7;

  /** transformers' default {@code power}: a linear decay. */
  public static final double DEFAULT_POWER = 1.0;

  /** @throws IllegalArgumentException naming the bad argument */
  public PolynomialSchedule {
    Arguments.learningRate("learningRate", peakLearningRate);
    Arguments.positive("totalSteps", totalSteps);
    Arguments.warmupSteps(warmupSteps, totalSteps);
    // transformers divides by num_training_steps - num_warmup_steps without max(1, ...) here, so a warmup
    // that fills the run raises ZeroDivisionError at the last step; refuse it up front instead.
    if (warmupSteps == totalSteps) {
      throw new IllegalArgumentException(
          "warmupSteps must be < totalSteps (" + totalSteps + ") for polynomial, whose decay divides by their"
              + " difference: " + warmupSteps);
    }
    Arguments.learningRate("endLearningRate", endLearningRate);
    // The same check as transformers' "lr_end must be smaller than initial lr".
    if (!(endLearningRate < peakLearningRate)) {
      throw new IllegalArgumentException(
          "endLearningRate must be < learningRate (" + peakLearningRate + "): " + endLearningRate);
    }
    Arguments.positiveFinite("power", power);
  }

  @Override
  public ScheduleType type() {
    return ScheduleType.POLYNOMIAL;
  }

  /** transformers' {@code _get_polynomial_decay_schedule_with_warmup_lr_lambda}. */
  @Override
  public double factor(long step) {
    Formulas.checkStep(step);
    if (step < warmupSteps) {
      return Formulas.linearWarmup(step, warmupSteps);
    }
    if (step > totalSteps) {
      return endLearningRate / peakLearningRate;
    }
    double range = peakLearningRate - endLearningRate;
    double remaining = 1 - (double) (step - warmupSteps) / (double) (totalSteps - warmupSteps);
    double decay = range * StrictMath.pow(remaining, power) + endLearningRate;
    return decay / peakLearningRate;
  }

  @Override
  public PolynomialSchedule withWarmupSteps(long warmupSteps) {
    return new PolynomialSchedule(peakLearningRate, totalSteps, warmupSteps, endLearningRate, power);
  }

  @Override
  public String toString() {
    return "polynomial(lr=" + peakLearningRate
        + ", totalSteps=" + totalSteps
        + ", warmupSteps=" + warmupSteps
        + ", endLr=" + endLearningRate
        + ", power=" + power
        + ")";
  }
}
