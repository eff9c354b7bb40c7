package io.github.lora4j.optim;

import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.Schedules;
import java.util.List;

/**
 * The settings every optimizer has: learning-rate schedule, weight decay, gradient clipping, what to
 * do with non-finite gradients, and an optional fp16 loss scaler. Each setter checks its argument
 * and throws {@link IllegalArgumentException} naming the field, e.g. {@code "maxGradNorm must be
 * finite and >= 0: -1.0"}; {@link #build} checks how they combine.
 *
 * @param <B> the concrete builder, returned by every setter
 * @param <O> the optimizer it builds
 */
public abstract sealed class OptimizerBuilder<B extends OptimizerBuilder<B, O>, O extends Optimizer> permits AdamWBuilder, SGD.Builder {
  LearningRateSchedule schedule;
  double weightDecay;
  double maxGradNorm = 1.0;
  boolean skipNonFiniteSteps = true;
  LossScaler lossScaler;

  OptimizerBuilder(double defaultLearningRate, double defaultWeightDecay) {
    this.schedule = Schedules.constant(defaultLearningRate);
    this.weightDecay = defaultWeightDecay;
  }

  abstract B self();

  /** A constant learning rate. */
  public B learningRate(double learningRate) {
    this.schedule = Schedules.constant(Arguments.nonNegative("learningRate", learningRate));
    return self();
  }

  /** The learning rate of update {@code k} is {@code schedule.learningRate(k)}, k counting applied updates from 0. */
  public B learningRate(LearningRateSchedule schedule) {
    this.schedule = Arguments.notNull("learningRate schedule", schedule);
    return self();
  }

  /** Weight decay for groups that do not set their own (decoupled for AdamW, L2 for SGD, as torch). */
  public B weightDecay(double weightDecay) {
    this.weightDecay = Arguments.nonNegative("weightDecay", weightDecay);
    return self();
  }

  /** Clip the global gradient norm to this before each update, as transformers' {@code max_grad_norm} (default 1.0); 0 turns clipping off. */
  public B maxGradNorm(double maxGradNorm) {
    this.maxGradNorm = Arguments.nonNegative("maxGradNorm", maxGradNorm);
    return self();
  }

  /**
   * Whether a step checks that the gradient norm is finite and skips the update when not (default
   * true). The check reads 4 bytes back from the device once per step; without it a step never
   * synchronises, clips on the device, and applies NaN gradients.
   */
  public B skipNonFiniteSteps(boolean skip) {
    this.skipNonFiniteSteps = skip;
    return self();
  }

  /** Divide gradients by this scaler's scale and update it after each step (fp16 training); null for none. */
  public B lossScaler(LossScaler lossScaler) {
    this.lossScaler = lossScaler;
    return self();
  }

  /**
   * An optimizer over these parameter groups, with zeroed state on the parameters' backend.
   *
   * @throws IllegalArgumentException when the groups are empty, repeat a parameter name, mix
   *     backends, or the settings do not combine
   */
  public abstract O build(List<ParameterGroup> groups);

  public O build(ParameterGroup... groups) {
    return build(List.of(groups));
  }

  /** An optimizer over one group, named "default", of these parameters. */
  public O build(Parameter... parameters) {
    return build(List.of(ParameterGroup.of("default", parameters)));
  }

  void checkCommon() {
    if (lossScaler != null && !skipNonFiniteSteps) {
      throw new IllegalArgumentException("lossScaler needs skipNonFiniteSteps(true): the scale backs off on the steps that are skipped");
    }
  }
}
