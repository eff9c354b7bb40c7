package io.github.lora4j.core.lora;

import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The trainable LoRA weights of a model: one {@link LoraModule} per adapted projection of each
 * transformed layer, in fp32 with gradients beside them. Save and load it in PEFT's format with
 * {@link PeftAdapters}.
 */
public final class LoraAdapter implements AutoCloseable {
  private final ModelConfig modelConfig;
  private final LoraConfig config;
  private final Backend backend;
  private final LoraModule[][] byLayer;
  private final List<LoraModule> modules;

  private LoraAdapter(ModelConfig modelConfig, LoraConfig config, Backend backend, LoraModule[][] byLayer) {
    this.modelConfig = modelConfig;
    this.config = config;
    this.backend = backend;
    this.byLayer = byLayer;
    List<LoraModule> all = new ArrayList<>();
    for (LoraModule[] layer : byLayer) {
      for (LoraModule m : layer) {
        if (m != null) {
          all.add(m);
        }
      }
    }
    this.modules = Collections.unmodifiableList(all);
  }

  /** The values of one module's A and B, for building an adapter from saved weights. */
  public interface WeightValues {
    /** A {@code [r, in]} (row-major) for the module, or null for a fresh PEFT initialisation. */
    float[] a(int layer, TargetModule projection);

    /** B {@code [out, r]} (row-major) for the module, or null for zeros. */
    float[] b(int layer, TargetModule projection);
  }

  /**
   * A new adapter with PEFT's default initialisation from {@code config.seed()}: A drawn from
   * Kaiming-uniform with {@code a = sqrt(5)}, which is U(-1/sqrt(in), 1/sqrt(in)), and B zero, so
   * the adapted model starts equal to the base model.
   */
  public static LoraAdapter initialize(ModelConfig modelConfig, LoraConfig config, Backend backend) {
    return build(modelConfig, config, backend, null);
  }

  /** An adapter whose A and B take the given values (missing ones are initialised as PEFT does). */
  public static LoraAdapter fromValues(ModelConfig modelConfig, LoraConfig config, Backend backend, WeightValues values) {
    return build(modelConfig, config, backend, values);
  }

  private static LoraAdapter build(ModelConfig modelConfig, LoraConfig config, Backend backend, WeightValues values) {
    return Scope.detached(
        () -> {
          SplittableRandom random = new SplittableRandom(config.seed());
          int r = config.r();
          float scaling = (float) config.scaling();
          float dropout = (float) config.loraDropout();
          LoraModule[][] byLayer = new LoraModule[modelConfig.numHiddenLayers()][TargetModule.values().length];
          List<Tensor> made = new ArrayList<>();
          try {
            for (int layer = 0; layer < byLayer.length; layer++) {
              if (!config.adaptsLayer(layer)) {
                continue;
              }
              for (TargetModule p : TargetModule.values()) {
                if (!config.targetModules().contains(p)) {
                  continue;
                }
                int in = p.inFeatures(modelConfig);
                int out = p.outFeatures(modelConfig);
                // Draw every module's init even when values are given, so a module's A does not depend on which others were loaded.
                float[] initA = kaimingUniform(random.split(), r * in, in);
                float[] a = values == null || values.a(layer, p) == null ? initA : checkLength(values.a(layer, p), r * in, layer, p, "lora_A");
                float[] b = values == null || values.b(layer, p) == null ? new float[out * r] : checkLength(values.b(layer, p), out * r, layer, p, "lora_B");
                Tensor ta = add(made, backend.fromFloats(a, Shape.of(r, in), DType.F32));
                Tensor tb = add(made, backend.fromFloats(b, Shape.of(out, r), DType.F32));
                Tensor ga = add(made, backend.zeros(Shape.of(r, in), DType.F32));
                Tensor gb = add(made, backend.zeros(Shape.of(out, r), DType.F32));
                byLayer[layer][p.ordinal()] = new LoraModule(layer, p, ta, tb, ga, gb, scaling, dropout);
              }
            }
          } catch (RuntimeException e) {
            made.forEach(Tensor::close);
            throw e;
          }
          return new LoraAdapter(modelConfig, config, backend, byLayer);
        });
  }

  /** PEFT's {@code kaiming_uniform_(a=sqrt(5))}: gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fanIn) = 1/sqrt(fanIn). */
  private static float[] kaimingUniform(SplittableRandom random, int n, int fanIn) {
    double bound = 1.0 / Math.sqrt(fanIn);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextDouble(-bound, bound);
    }
    return v;
  }

  private static float[] checkLength(float[] values, int expected, int layer, TargetModule p, String which) {
    if (values.length != expected) {
      throw new IllegalArgumentException(
          "layer " + layer + " " + p.peftName() + "." + which + " has " + values.length + " values, expected " + expected);
    }
    return values;
  }

  private static Tensor add(List<Tensor> made, Tensor t) {
    made.add(t);
    return t;
  }

  public ModelConfig modelConfig() {
    return modelConfig;
  }

  public LoraConfig config() {
    return config;
  }

  public Backend backend() {
    return backend;
  }

  /** The module on projection {@code p} of layer {@code layer}, or null when it is not adapted. */
  public LoraModule module(int layer, TargetModule p) {
    return byLayer[layer][p.ordinal()];
  }

  /** Every module, by layer and then projection order (q, k, v, o, gate, up, down). */
  public List<LoraModule> modules() {
    return modules;
  }

  /** Sets every gradient to zero, as {@code optimizer.zero_grad()} does before a step. */
  public void zeroGradients() {
    for (LoraModule m : modules) {
      backend.zeroInPlace(m.gradA());
      backend.zeroInPlace(m.gradB());
    }
  }

  /** The number of trainable parameters, r * (in + out) summed over the modules. */
  public long parameterCount() {
    long n = 0;
    for (LoraModule m : modules) {
      n += m.a().numel() + m.b().numel();
    }
    return n;
  }

  @Override
  public void close() {
    modules.forEach(LoraModule::close);
  }
}
