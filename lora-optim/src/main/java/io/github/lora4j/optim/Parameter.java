package io.github.lora4j.optim;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;

/**
 * A trainable tensor and the tensor its gradient is accumulated in, both F32 and of one shape, on
 * one backend. The name keys the parameter's optimizer state in saved checkpoints, as the parameter
 * names of a PEFT adapter do ({@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}).
 */
public record Parameter(String name, Tensor value, Tensor grad) {

  public Parameter {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank: " + (name == null ? "null" : "'" + name + "'"));
    }
    Arguments.notNull("value of parameter '" + name + "'", value);
    Arguments.notNull("grad of parameter '" + name + "'", grad);
    if (value.dtype() != DType.F32 || grad.dtype() != DType.F32) {
      throw new IllegalArgumentException("parameter '" + name + "' must be F32 with an F32 grad: value " + value.dtype() + ", grad " + grad.dtype());
    }
    if (!value.shape().equals(grad.shape())) {
      throw new IllegalArgumentException("parameter '" + name + "': grad " + grad.shape() + " must have the shape of value " + value.shape());
    }
    if (value.backend() != grad.backend()) {
      throw new IllegalArgumentException("parameter '" + name + "': value and grad must be on one backend: " + value.device() + ", " + grad.device());
    }
  }

  /** The number of elements. */
  public long numel() {
    return value.numel();
  }
}
