package io.github.lora4j.core.model;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Where a model's frozen weights come from: a Hugging Face checkpoint on disk, or seeded random
 * values for tests and benchmarks. Keys are transformers' state-dict names
 * ({@code model.layers.0.self_attn.q_proj.weight}).
 */
public interface WeightSource {

  /** Whether the source has a tensor under {@code key}. */
  boolean contains(String key);

  /**
   * Loads {@code key} onto {@code backend} as {@code dtype}, checking that its shape is {@code
   * expected}; a missing key or another shape is an error naming the source and the key.
   */
  Tensor load(String key, Shape expected, Backend backend, DType dtype);

  /** A one-line description for error messages: the directory or "random(seed=...)". */
  String describe();
}
