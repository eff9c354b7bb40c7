package io.github.lora4j.core.lora;

import io.github.lora4j.core.model.ModelConfig;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The linear layers of a decoder layer that LoRA can adapt, named as PEFT's {@code
 * target_modules} names them. Each knows its place in the layer and its shape in a model.
 */
public enum TargetModule {
  /** Attention query projection, hidden to heads * head_dim. */
  Q_PROJ("q_proj", "self_attn"),
  /** Attention key projection, hidden to key/value heads * head_dim. */
  K_PROJ("k_proj", "self_attn"),
  /** Attention value projection, hidden to key/value heads * head_dim. */
  V_PROJ("v_proj", "self_attn"),
  /** Attention output projection, heads * head_dim to hidden. */
  O_PROJ("o_proj", "self_attn"),
  /** MLP gate projection, hidden to intermediate. */
  GATE_PROJ("gate_proj", "mlp"),
  /** MLP up projection, hidden to intermediate. */
  UP_PROJ("up_proj", "mlp"),
  /** MLP down projection, intermediate to hidden. */
  DOWN_PROJ("down_proj", "mlp");

  /** PEFT's shorthand for every linear layer but the output head: here, all seven. */
  public static final String ALL_LINEAR = "all-linear";

  private final String peftName;
  private final String parent;

  TargetModule(String peftName, String parent) {
    this.peftName = peftName;
    this.parent = parent;
  }

  /** The name in PEFT's target_modules and in module paths, e.g. "q_proj". */
  public String peftName() {
    return peftName;
  }

  /** The submodule of the decoder layer holding it: "self_attn" or "mlp". */
  public String parent() {
    return parent;
  }

  /** The module's path in transformers' model, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public String modulePath(int layer) {
    return "model.layers." + layer + "." + parent + "." + peftName;
  }

  /** Input features of this projection in {@code model}. */
  public int inFeatures(ModelConfig model) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> model.hiddenSize();
      case O_PROJ -> model.queryDim();
      case DOWN_PROJ -> model.intermediateSize();
    };
  }

  /** Output features of this projection in {@code model}. */
  public int outFeatures(ModelConfig model) {
    return switch (this) {
      case Q_PROJ -> model.queryDim();
      case K_PROJ, V_PROJ -> model.keyValueDim();
      case O_PROJ, DOWN_PROJ -> model.hiddenSize();
      case GATE_PROJ, UP_PROJ -> model.intermediateSize();
    };
  }

  /** Whether this projection has a bias in {@code model}. */
  public boolean hasBias(ModelConfig model) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ -> model.qkvBias();
      case O_PROJ -> model.oBias();
      case GATE_PROJ, UP_PROJ, DOWN_PROJ -> model.mlpBias();
    };
  }

  /** The module PEFT calls {@code name}, if lora4j knows it. */
  public static Optional<TargetModule> fromPeftName(String name) {
    return Arrays.stream(values()).filter(t -> t.peftName.equals(name)).findFirst();
  }

  /** Every PEFT name, in layer order. */
  public static List<String> peftNames() {
    return Arrays.stream(values()).map(TargetModule::peftName).toList();
  }

  /**
   * The modules for PEFT-style names: "q_proj", ... or "all-linear".
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static Set<TargetModule> parse(Iterable<String> names) {
    EnumSet<TargetModule> out = EnumSet.noneOf(TargetModule.class);
    for (String name : names) {
      if (name.equals(ALL_LINEAR)) {
        out.addAll(EnumSet.allOf(TargetModule.class));
        continue;
      }
      out.add(fromPeftName(name).orElseThrow(() -> new IllegalArgumentException("unknown target module '" + name
          + "'; valid: " + String.join(", ", peftNames()) + ", or " + ALL_LINEAR)));
    }
    return out;
  }
}
