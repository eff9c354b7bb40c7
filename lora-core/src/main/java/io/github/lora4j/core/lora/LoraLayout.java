package io.github.lora4j.core.lora;

import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.safetensors.Safetensors;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Where a LoRA config puts adapters in a model: each adapted projection, its shapes, and its
 * tensors' names in PEFT's {@code adapter_model.safetensors}. An adapter on a projection {@code W
 * [out, in]} is {@code lora_A [r, in]} and {@code lora_B [out, r]}, adding {@code scaling * B A x}.
 *
 * <pre>{@code
 * var layout = new LoraLayout(ModelConfig.bundled("llama-3.1-8b"),
 *     LoraConfig.builder().r(32).loraAlpha(64).targetModules("q_proj", "k_proj", "v_proj", "o_proj").build());
 * layout.trainableParameterCount(); // 27,262,976
 * }</pre>
 *
 * <p>As in PEFT, {@code layersToTransform} indices at or beyond the model's layer count select
 * nothing; a layout that adapts nothing at all is refused.
 *
 * @param model the base model
 * @param lora the adapter's configuration
 */
public record LoraLayout(ModelConfig model, LoraConfig lora) {

  /** PEFT's prefix for the base model's modules in adapter keys: PeftModel, then LoraModel. */
  public static final String PEFT_PREFIX = "base_model.model.";

  /** A's key in adapter_model.safetensors: {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}. */
  public static String loraAKey(int layer, TargetModule target) {
    return PEFT_PREFIX + target.modulePath(layer) + ".lora_A.weight";
  }

  /** B's key in adapter_model.safetensors. */
  public static String loraBKey(int layer, TargetModule target) {
    return PEFT_PREFIX + target.modulePath(layer) + ".lora_B.weight";
  }

  /**
   * Checks that the layout adapts at least one layer.
   *
   * @throws IllegalArgumentException when it adapts none
   */
  public LoraLayout {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(lora, "lora");
    if (adaptedLayers(model, lora).isEmpty()) {
      throw new IllegalArgumentException("layersToTransform " + lora.layersToTransform() + " selects no layer of a "
          + "model with " + model.numHiddenLayers() + " layers (0-" + (model.numHiddenLayers() - 1) + ")");
    }
  }

  /**
   * One adapted projection.
   *
   * @param layer the decoder layer
   * @param target the projection
   * @param inFeatures the projection's input width
   * @param outFeatures the projection's output width
   * @param r the adapter's rank
   */
  public record AdaptedModule(int layer, TargetModule target, int inFeatures, int outFeatures, int r) {

    /** The path in transformers' model: {@code model.layers.0.self_attn.q_proj}. */
    public String modulePath() {
      return target.modulePath(layer);
    }

    /** The name in a PeftModel: {@code base_model.model.model.layers.0.self_attn.q_proj}. */
    public String peftName() {
      return PEFT_PREFIX + modulePath();
    }

    /** A's key in adapter_model.safetensors: {@code <peftName>.lora_A.weight}. */
    public String loraAKey() {
      return LoraLayout.loraAKey(layer, target);
    }

    /** B's key in adapter_model.safetensors: {@code <peftName>.lora_B.weight}. */
    public String loraBKey() {
      return LoraLayout.loraBKey(layer, target);
    }

    /** A's shape, [r, in]. */
    public long[] loraAShape() {
      return new long[] {r, inFeatures};
    }

    /** B's shape, [out, r]. */
    public long[] loraBShape() {
      return new long[] {outFeatures, r};
    }

    /** Elements of A and B together: r * (in + out). */
    public long parameterCount() {
      return (long) r * ((long) inFeatures + outFeatures);
    }
  }

  /**
   * What an adapter file holds that this layout does not expect, and the reverse.
   *
   * @param missing expected keys the file lacks
   * @param unexpected keys the file has that this layout does not expect
   * @param mismatched expected keys present with another shape or a non-float dtype, each as
   *     {@code "key: BF16 [16, 4096], expected [32, 4096]"}
   */
  public record AdapterCheck(List<String> missing, List<String> unexpected, List<String> mismatched) {
    /** Copies the lists. */
    public AdapterCheck {
      missing = List.copyOf(missing);
      unexpected = List.copyOf(unexpected);
      mismatched = List.copyOf(mismatched);
    }

    /** Whether the file holds exactly the expected tensors, each of the expected shape. */
    public boolean ok() {
      return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }
  }

  /** The adapted decoder layers, ascending. */
  public List<Integer> adaptedLayers() {
    return adaptedLayers(model, lora);
  }

  private static List<Integer> adaptedLayers(ModelConfig model, LoraConfig lora) {
    return IntStream.range(0, model.numHiddenLayers()).filter(lora::adaptsLayer).boxed().toList();
  }

  /** Every adapted projection, layer by layer, in the order q, k, v, o, gate, up, down. */
  public List<AdaptedModule> modules() {
    var out = new ArrayList<AdaptedModule>();
    for (int layer : adaptedLayers()) {
      for (TargetModule t : lora.targetModules()) {
        out.add(new AdaptedModule(layer, t, t.inFeatures(model), t.outFeatures(model), lora.r()));
      }
    }
    return out;
  }

  /** The number of trainable parameters: r * (in + out) summed over the adapted projections. */
  public long trainableParameterCount() {
    return modules().stream().mapToLong(AdaptedModule::parameterCount).sum();
  }

  /** The bytes the trainable parameters take in {@code dtype} (F32: 4 per parameter). */
  public long trainableBytes(DType dtype) {
    return Math.multiplyExact(trainableParameterCount(), dtype.byteSize());
  }

  /** The tensors of the adapter file PEFT saves, in F32, sorted by key. */
  public List<TensorInfo> adapterTensors() {
    var byKey = new TreeMap<String, TensorInfo>();
    for (AdaptedModule m : modules()) {
      byKey.put(m.loraAKey(), new TensorInfo(m.loraAKey(), DType.F32, m.loraAShape()));
      byKey.put(m.loraBKey(), new TensorInfo(m.loraBKey(), DType.F32, m.loraBShape()));
    }
    return List.copyOf(byKey.values());
  }

  /** Compares an adapter file's tensors with {@link #adapterTensors()}; any float dtype is accepted. */
  public AdapterCheck check(Safetensors adapter) {
    Map<String, TensorInfo> expected = new TreeMap<>();
    adapterTensors().forEach(t -> expected.put(t.name(), t));
    var missing = new ArrayList<String>();
    var mismatched = new ArrayList<String>();
    for (TensorInfo want : expected.values()) {
      if (!adapter.contains(want.name())) {
        missing.add(want.name());
        continue;
      }
      TensorInfo got = adapter.info(want.name());
      if (!Arrays.equals(got.shape(), want.shape()) || !got.dtype().isFloatingPoint()) {
        mismatched.add(want.name() + ": " + got.dtype() + " " + Arrays.toString(got.shape()) + ", expected "
            + Arrays.toString(want.shape()));
      }
    }
    var unexpected = new TreeSet<>(adapter.names());
    unexpected.removeAll(expected.keySet());
    return new AdapterCheck(missing, List.copyOf(unexpected), mismatched);
  }
}
