package io.github.lora4j.core.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The model families lora4j runs: a decoder of RMSNorm, grouped-query attention with rotary
 * embeddings and a SwiGLU MLP, as transformers' {@code LlamaForCausalLM}, {@code
 * MistralForCausalLM} and {@code Qwen2ForCausalLM} implement it. They differ in biases and
 * defaults, which {@link ModelConfig} records.
 */
public enum ModelType {
  /** Llama 2, 3, 3.1, 3.2 (and models that reuse its architecture). */
  LLAMA("llama"),
  /** Mistral 7B: Llama's layout, no biases, an optional sliding attention window. */
  MISTRAL("mistral"),
  /** Qwen2 and Qwen2.5: biases on the q, k and v projections only. */
  QWEN2("qwen2");

  private final String hfName;

  ModelType(String hfName) {
    this.hfName = hfName;
  }

  /** The {@code model_type} in config.json. */
  public String hfName() {
    return hfName;
  }

  /** The type whose {@code model_type} this is. */
  public static Optional<ModelType> fromHfName(String modelType) {
    return Arrays.stream(values()).filter(t -> t.hfName.equals(modelType)).findFirst();
  }

  /** Every supported {@code model_type}. */
  public static List<String> hfNames() {
    return Arrays.stream(values()).map(ModelType::hfName).toList();
  }
}
