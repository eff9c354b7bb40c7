package io.github.lora4j.core.lora;

import io.github.lora4j.tensor.TempSiblings;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.safetensors.SafetensorsException;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import io.github.lora4j.tensor.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads and writes LoRA adapters in PEFT's format: a directory with {@code adapter_config.json}
 * and {@code adapter_model.safetensors} whose keys read {@code
 * base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}, so that an adapter trained
 * here loads with {@code PeftModel.from_pretrained} and the other way round.
 */
public final class PeftAdapters {
  private PeftAdapters() {}

  /**
   * Loads a PEFT adapter for a model of {@code modelConfig}: every expected tensor must be present
   * with its shape, and no unexpected one may be; errors name the file and the key.
   */
  public static LoraAdapter load(Path dir, ModelConfig modelConfig, Backend backend) throws IOException {
    return load(dir, modelConfig, LoraConfig.readPeftConfig(dir), backend);
  }

  /**
   * Loads the weights of a PEFT adapter into an adapter with {@code config} (e.g. to resume
   * training with this run's dropout and seed); the file must hold exactly the tensors {@code config}
   * implies for the model.
   */
  public static LoraAdapter load(Path dir, ModelConfig modelConfig, LoraConfig config, Backend backend) throws IOException {
    Path weights = dir.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE);
    LoraLayout layout = new LoraLayout(modelConfig, config);
    try (SafetensorsFile file = SafetensorsFile.open(weights)) {
      LoraLayout.AdapterCheck check = layout.check(file);
      if (!check.ok()) {
        throw new SafetensorsException(weights, null, "does not fit " + describe(modelConfig) + ": " + check);
      }
      Map<String, float[]> values = new HashMap<>();
      for (LoraLayout.AdaptedModule m : layout.modules()) {
        values.put(m.loraAKey(), file.readFloats(m.loraAKey()));
        values.put(m.loraBKey(), file.readFloats(m.loraBKey()));
      }
      return LoraAdapter.fromValues(
          modelConfig,
          config,
          backend,
          new LoraAdapter.WeightValues() {
            @Override
            public float[] a(int layer, TargetModule target) {
              return values.get(LoraLayout.loraAKey(layer, target));
            }

            @Override
            public float[] b(int layer, TargetModule target) {
              return values.get(LoraLayout.loraBKey(layer, target));
            }
          });
    }
  }

  /**
   * Writes {@code adapter} into {@code dir} as PEFT does (fp32 weights), replacing what was there
   * only once both files are complete.
   */
  public static void save(LoraAdapter adapter, Path dir, String baseModelNameOrPath) throws IOException {
    Files.createDirectories(dir);
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    Backend backend = adapter.backend();
    for (LoraModule m : adapter.modules()) {
      writer.putFloats(LoraLayout.loraAKey(m.layer(), m.target()), backend.toFloats(m.a()), DType.F32, dims(m.a()));
      writer.putFloats(LoraLayout.loraBKey(m.layer(), m.target()), backend.toFloats(m.b()), DType.F32, dims(m.b()));
    }
    writer.write(dir.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE));
    Path configTmp = TempSiblings.directory(dir, ".adapter_config");
    try {
      adapter.config().writePeftConfig(configTmp, baseModelNameOrPath);
      Files.move(
          configTmp.resolve(LoraConfig.ADAPTER_CONFIG_FILE),
          dir.resolve(LoraConfig.ADAPTER_CONFIG_FILE),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(configTmp.resolve(LoraConfig.ADAPTER_CONFIG_FILE));
      Files.deleteIfExists(configTmp);
    }
  }

  /** Every LoRA gradient under the adapter file's key names, e.g. for {@code lora4j loss --grads-out}. */
  public static void saveGradients(LoraAdapter adapter, Path file) throws IOException {
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    Backend backend = adapter.backend();
    for (LoraModule m : adapter.modules()) {
      writer.putFloats(LoraLayout.loraAKey(m.layer(), m.target()), backend.toFloats(m.gradA()), DType.F32, dims(m.gradA()));
      writer.putFloats(LoraLayout.loraBKey(m.layer(), m.target()), backend.toFloats(m.gradB()), DType.F32, dims(m.gradB()));
    }
    writer.write(file);
  }

  private static long[] dims(io.github.lora4j.tensor.Tensor t) {
    int[] d = t.shape().dims();
    long[] out = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = d[i];
    }
    return out;
  }

  private static String describe(ModelConfig c) {
    return c.modelType() + " with " + c.numHiddenLayers() + " layers, hidden " + c.hiddenSize();
  }
}
