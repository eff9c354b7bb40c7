package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint that does not fit its config fails with the file and key named, and leaks nothing. */
class ModelLoadingErrorsTest {
  static final Path MODEL = Path.of("src/test/resources/golden/llama_gqa/model");
  private static Backend cpu;

  @BeforeAll
  static void open() {
    cpu = Backends.open(Device.cpu());
  }

  @AfterAll
  static void close() {
    cpu.close();
  }

  /** Copies the golden model, rewriting its weights through {@code edit(name, info) -> keep?}. */
  private static Path copyWith(Path tmp, BiFunction<String, TensorInfo, float[]> edit) throws Exception {
    Path dir = tmp.resolve("model");
    Files.createDirectories(dir);
    Files.copy(MODEL.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(MODEL.resolve("model.safetensors"))) {
      for (String name : f.names()) {
        TensorInfo info = f.info(name);
        float[] replaced = edit.apply(name, info);
        if (replaced == null) {
          continue;
        }
        long[] shape = replaced.length == info.numel() ? info.shape() : new long[] {replaced.length};
        w.putFloats(name, replaced, DType.F32, shape);
      }
    }
    w.write(dir.resolve("model.safetensors"));
    return dir;
  }

  @Test
  void wrongShapeNamesFileAndKey(@TempDir Path tmp) throws Exception {
    String key = "model.layers.1.self_attn.k_proj.weight";
    Path dir = copyWith(tmp, (name, info) -> name.equals(key) ? new float[7] : readAll(name));
    long before = cpu.currentBytes();
    Exception e = assertThrows(Exception.class, () -> LlamaModel.load(dir, cpu, DType.F32));
    assertTrue(e.getMessage().contains(key) && e.getMessage().contains("model.safetensors") && e.getMessage().contains("[16, 32]"), e.getMessage());
    assertTrue(cpu.currentBytes() == before, "weights loaded before the error are freed: " + (cpu.currentBytes() - before) + " bytes left");
  }

  @Test
  void missingWeightNamesKey(@TempDir Path tmp) throws Exception {
    String key = "model.norm.weight";
    Path dir = copyWith(tmp, (name, info) -> name.equals(key) ? null : readAll(name));
    Exception e = assertThrows(Exception.class, () -> LlamaModel.load(dir, cpu, DType.F32));
    assertTrue(e.getMessage().contains(key) && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void tokenIdOutsideVocabularyIsRefusedBeforeTheDevice() throws Exception {
    try (LlamaModel model = LlamaModel.load(MODEL, cpu, DType.F32)) {
      int[] ids = {1, 2, 96, 4};
      TokenBatch batch = TokenBatch.padded(1, 4, ids, ids, null);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.logits(batch, null));
      assertTrue(e.getMessage().contains("96") && e.getMessage().contains("position 2"), e.getMessage());
    }
  }

  private static float[] readAll(String name) {
    try (SafetensorsFile f = SafetensorsFile.open(MODEL.resolve("model.safetensors"))) {
      return f.readFloats(name);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
