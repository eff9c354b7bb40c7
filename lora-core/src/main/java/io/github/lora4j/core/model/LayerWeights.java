package io.github.lora4j.core.model;

import io.github.lora4j.core.lora.TargetModule;

import io.github.lora4j.tensor.Tensor;
import java.util.EnumMap;
import java.util.Map;

/**
 * The frozen weights of one decoder layer: two RMSNorm scales and the seven projections (weights as
 * transformers stores them, {@code [out, in]}, with optional biases).
 */
record LayerWeights(Tensor inputNorm, Tensor postAttentionNorm, Map<TargetModule, Tensor> weights, Map<TargetModule, Tensor> biases)
    implements AutoCloseable {

  LayerWeights {
    weights = new EnumMap<>(weights);
    biases = biases.isEmpty() ? new EnumMap<>(TargetModule.class) : new EnumMap<>(biases);
  }

  Tensor weight(TargetModule p) {
    return weights.get(p);
  }

  /** The bias of {@code p}, or null when the projection has none. */
  Tensor bias(TargetModule p) {
    return biases.get(p);
  }

  @Override
  public void close() {
    inputNorm.close();
    postAttentionNorm.close();
    weights.values().forEach(Tensor::close);
    biases.values().forEach(Tensor::close);
  }
}
