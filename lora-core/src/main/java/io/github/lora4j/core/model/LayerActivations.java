package io.github.lora4j.core.model;

import io.github.lora4j.core.lora.TargetModule;

import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Tensor;
import java.util.EnumMap;
import java.util.Map;

/** What one decoder layer's forward keeps for its backward. Owned by the step's scope. */
record LayerActivations(
    Tensor input,
    NormOutput inputNorm,
    Tensor q,
    Tensor k,
    Tensor v,
    AttentionOutput attention,
    Tensor attentionFlat,
    Tensor mid,
    NormOutput postNorm,
    Tensor gate,
    Tensor up,
    Tensor act,
    Tensor output,
    Map<TargetModule, Tensor> loraHidden) {

  LayerActivations {
    loraHidden = loraHidden.isEmpty() ? new EnumMap<>(TargetModule.class) : new EnumMap<>(loraHidden);
  }
}
