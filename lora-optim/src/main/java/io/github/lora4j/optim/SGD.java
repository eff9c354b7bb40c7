package io.github.lora4j.optim;

import com.google.gson.JsonObject;
import io.github.lora4j.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD}: L2 weight decay added to the gradient,
 * momentum with dampening, Nesterov momentum; one fused {@code Backend.sgdStep} per parameter. State:
 * {@code momentum_buffer} per parameter when momentum is not 0.
 *
 * <pre>{@code
 * Optimizer sgd = SGD.builder().learningRate(0.1).momentum(0.9).nesterov(true).build(groups);
 * }</pre>
 */
public final class SGD extends BaseOptimizer {
  private final double momentum;
  private final double dampening;
  private final boolean nesterov;
  private final Map<Parameter, Tensor> buffers = new IdentityHashMap<>();

  private SGD(Builder b, List<ParameterGroup> groups) {
    super(b, groups);
    this.momentum = b.momentum;
    this.dampening = b.dampening;
    this.nesterov = b.nesterov;
    if (momentum != 0) {
      for (ParameterGroup g : groups) {
        for (Parameter p : g.parameters()) {
          buffers.put(p, newState(p, "momentum_buffer"));
        }
      }
    }
  }

  /** A builder with torch.optim.SGD's defaults: lr 1e-3, no momentum, dampening or weight decay; and maxGradNorm 1.0. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  void update(Parameter p, double learningRate, double weightDecay, long step, float gradScale) {
    // torch creates the buffer as a copy of the first gradient: step 1 of a fresh (or reset) optimizer.
    backend.sgdStep(p.value(), p.grad(), buffers.get(p), learningRate, momentum, dampening, weightDecay, nesterov, step == 1, gradScale);
  }

  @Override
  String kind() {
    return "sgd";
  }

  @Override
  void describe(JsonObject hyperparameters) {
    hyperparameters.addProperty("momentum", momentum);
    hyperparameters.addProperty("dampening", dampening);
    hyperparameters.addProperty("nesterov", nesterov);
  }

  /** Settings of {@link SGD}; see {@link OptimizerBuilder}. */
  public static final class Builder extends OptimizerBuilder<Builder, SGD> {
    private double momentum;
    private double dampening;
    private boolean nesterov;

    Builder() {
      super(1e-3, 0);
    }

    @Override
    Builder self() {
      return this;
    }

    /** The momentum factor, >= 0 (0: plain SGD, no buffer). */
    public Builder momentum(double momentum) {
      this.momentum = Arguments.nonNegative("momentum", momentum);
      return this;
    }

    /** Dampening of the gradient's contribution to the momentum buffer, in [0, 1]. */
    public Builder dampening(double dampening) {
      if (!(dampening >= 0 && dampening <= 1)) {
        throw new IllegalArgumentException("dampening must be in [0, 1]: " + dampening);
      }
      this.dampening = dampening;
      return this;
    }

    /** Nesterov momentum; needs momentum > 0 and dampening 0, as torch checks. */
    public Builder nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    @Override
    public SGD build(List<ParameterGroup> groups) {
      if (nesterov && (momentum <= 0 || dampening != 0)) {
        throw new IllegalArgumentException("nesterov needs momentum > 0 and dampening 0: momentum " + momentum + ", dampening " + dampening);
      }
      return new SGD(this, groups);
    }
  }
}
