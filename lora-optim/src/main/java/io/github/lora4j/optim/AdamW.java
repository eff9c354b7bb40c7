package io.github.lora4j.optim;

import com.google.gson.JsonObject;
import io.github.lora4j.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW as {@code torch.optim.AdamW}: decoupled weight decay ({@code p *= 1 - lr * wd}), bias-corrected
 * moments, optional AMSGrad; one fused {@code Backend.adamwStep} per parameter with torch's
 * single-tensor arithmetic, so that 100 steps match torch to 1e-6 (tools/golden/optimizers.py).
 * State: {@code exp_avg} and {@code exp_avg_sq} per parameter (and {@code max_exp_avg_sq} with
 * AMSGrad), fp32 on the parameters' device: 8 bytes per parameter element.
 *
 * <pre>{@code
 * Optimizer adamw = AdamW.builder().learningRate(Schedules.cosine(2e-4, 1000)).weightDecay(0.01).build(groups);
 * }</pre>
 */
public final class AdamW extends BaseOptimizer {
  private final AdamWSettings settings;
  private final Map<Parameter, Tensor[]> moments = new IdentityHashMap<>();

  private AdamW(Builder b, List<ParameterGroup> groups) {
    super(b, groups);
    this.settings = b.settings();
    for (ParameterGroup g : groups) {
      for (Parameter p : g.parameters()) {
        moments.put(p, new Tensor[] {newState(p, "exp_avg"), newState(p, "exp_avg_sq"), settings.amsgrad() ? newState(p, "max_exp_avg_sq") : null});
      }
    }
  }

  /** A builder with torch.optim.AdamW's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no AMSGrad; and maxGradNorm 1.0. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  void update(Parameter p, double learningRate, double weightDecay, long step, float gradScale) {
    Tensor[] s = moments.get(p);
    backend.adamwStep(p.value(), p.grad(), s[0], s[1], s[2], learningRate, settings.beta1(), settings.beta2(), settings.eps(), weightDecay,
        settings.biasCorrection1(step), settings.biasCorrection2(step), gradScale);
  }

  @Override
  String kind() {
    return "adamw";
  }

  @Override
  void describe(JsonObject hyperparameters) {
    settings.describe(hyperparameters);
  }

  /** Settings of {@link AdamW}; see {@link AdamWBuilder} and {@link OptimizerBuilder}. */
  public static final class Builder extends AdamWBuilder<Builder, AdamW> {
    Builder() {}

    @Override
    Builder self() {
      return this;
    }

    @Override
    public AdamW build(List<ParameterGroup> groups) {
      return new AdamW(this, groups);
    }
  }
}
