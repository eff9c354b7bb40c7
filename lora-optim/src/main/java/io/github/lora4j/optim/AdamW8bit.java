package io.github.lora4j.optim;

import com.google.gson.JsonObject;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.DynamicQuantization;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with 8-bit state, as bitsandbytes' {@code AdamW8bit} ({@code adamw_8bit} in transformers):
 * both moments are stored block-wise quantised, one byte per element with the dynamic code of
 * {@link DynamicQuantization} and an fp32 absmax per block of 256, so state takes about 2 bytes per
 * parameter element instead of AdamW's 8. Each step dequantises, applies AdamW's update (torch's
 * arithmetic) in fp32 and requantises, in one fused {@code Backend.adamw8bitStep} per parameter.
 * No AMSGrad (bitsandbytes has none either).
 *
 * <pre>{@code
 * Optimizer adam8 = AdamW8bit.builder().learningRate(2e-4).build(groups);
 * }</pre>
 */
public final class AdamW8bit extends BaseOptimizer {
  private final AdamWSettings settings;
  private final Map<Parameter, Tensor[]> state = new IdentityHashMap<>();

  private AdamW8bit(Builder b, List<ParameterGroup> groups) {
    super(b, groups);
    this.settings = b.settings();
    for (ParameterGroup g : groups) {
      for (Parameter p : g.parameters()) {
        Shape blocks = Shape.of(Math.toIntExact(DynamicQuantization.blocks(p.numel())));
        state.put(p, new Tensor[] {newState(p, "exp_avg", p.value().shape(), DType.U8), newState(p, "exp_avg_absmax", blocks, DType.F32),
            newState(p, "exp_avg_sq", p.value().shape(), DType.U8), newState(p, "exp_avg_sq_absmax", blocks, DType.F32)});
      }
    }
  }

  /** A builder with torch.optim.AdamW's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01) and maxGradNorm 1.0. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  void update(Parameter p, double learningRate, double weightDecay, long step, float gradScale) {
    update8bit(this, settings, p.value(), p.grad(), state.get(p), learningRate, weightDecay, step, gradScale);
  }

  /** The fused 8-bit step on one parameter (or a page of one): s = {exp_avg, exp_avg_absmax, exp_avg_sq, exp_avg_sq_absmax}. */
  static void update8bit(BaseOptimizer o, AdamWSettings settings, Tensor value, Tensor grad, Tensor[] s, double learningRate, double weightDecay, long step,
      float gradScale) {
    o.backend.adamw8bitStep(value, grad, s[0], s[1], s[2], s[3], learningRate, settings.beta1(), settings.beta2(), settings.eps(), weightDecay,
        settings.biasCorrection1(step), settings.biasCorrection2(step), gradScale);
  }

  static void checkSettings(AdamWSettings settings) {
    if (settings.amsgrad()) {
      throw new IllegalArgumentException("amsgrad is not supported with 8-bit state (bitsandbytes' 8-bit AdamW has none either)");
    }
  }

  @Override
  String kind() {
    return "adamw_8bit";
  }

  @Override
  void describe(JsonObject hyperparameters) {
    settings.describe(hyperparameters);
    hyperparameters.addProperty("block_size", DynamicQuantization.BLOCK_SIZE);
  }

  /** Settings of {@link AdamW8bit}; see {@link AdamWBuilder} and {@link OptimizerBuilder}. */
  public static final class Builder extends AdamWBuilder<Builder, AdamW8bit> {
    Builder() {}

    @Override
    Builder self() {
      return this;
    }

    @Override
    public AdamW8bit build(List<ParameterGroup> groups) {
      checkSettings(settings());
      return new AdamW8bit(this, groups);
    }
  }
}
