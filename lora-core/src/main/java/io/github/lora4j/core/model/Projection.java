package io.github.lora4j.core.model;

import java.util.Locale;

/** The seven linear projections of a Llama decoder layer, named as transformers and PEFT name them. */
public enum Projection {
  Q_PROJ("self_attn"),
  K_PROJ("self_attn"),
  V_PROJ("self_attn"),
  O_PROJ("self_attn"),
  GATE_PROJ("mlp"),
  UP_PROJ("mlp"),
  DOWN_PROJ("mlp");

  private final String block;

  Projection(String block) {
    this.block = block;
  }

  /** The module name PEFT's {@code target_modules} uses: {@code q_proj}, {@code down_proj}, ... */
  public String moduleName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The path inside a decoder layer: {@code self_attn.q_proj}, {@code mlp.down_proj}, ... */
  public String path() {
    return block + "." + moduleName();
  }

  /** Input features of this projection in a model of {@code config}. */
  public int inFeatures(ModelConfig config) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> config.hiddenSize();
      case O_PROJ -> config.numAttentionHeads() * config.headDim();
      case DOWN_PROJ -> config.intermediateSize();
    };
  }

  /** Output features of this projection in a model of {@code config}. */
  public int outFeatures(ModelConfig config) {
    return switch (this) {
      case Q_PROJ -> config.numAttentionHeads() * config.headDim();
      case K_PROJ, V_PROJ -> config.numKeyValueHeads() * config.headDim();
      case O_PROJ, DOWN_PROJ -> config.hiddenSize();
      case GATE_PROJ, UP_PROJ -> config.intermediateSize();
    };
  }

  /** The projection for a PEFT module name, or an exception listing the valid names. */
  public static Projection fromModuleName(String name) {
    for (Projection p : values()) {
      if (p.moduleName().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown target module '" + name + "'; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
  }
}
