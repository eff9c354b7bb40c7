package io.github.lora4j.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adapters survive a save and load unchanged, and a lora4j-written adapter is what PEFT reads.
 * As a by-product the second test leaves {@code target/peft-check/} (adapter + the logits lora4j
 * computes with it), which tools/golden/check_adapter.py loads in PEFT on a machine with torch.
 */
class PeftRoundTripTest {
  static final Path CASE = Path.of("src/test/resources/golden/qwen2_bias");
  private static Backend cpu;

  @BeforeAll
  static void open() {
    cpu = Backends.open(Device.cpu());
  }

  @AfterAll
  static void close() {
    cpu.close();
  }

  @Test
  void peftAdapterRoundTripsExactly(@TempDir Path tmp) throws Exception {
    try (LlamaModel model = LlamaModel.load(CASE.resolve("model"), cpu, DType.F32);
        LoraAdapter loaded = PeftAdapters.load(CASE.resolve("adapter"), model.config(), cpu)) {
      PeftAdapters.save(loaded, tmp, "../model");
      try (SafetensorsFile original = SafetensorsFile.open(CASE.resolve("adapter/adapter_model.safetensors"));
          SafetensorsFile written = SafetensorsFile.open(tmp.resolve("adapter_model.safetensors"))) {
        assertEquals(original.names().stream().sorted().toList(), written.names().stream().sorted().toList());
        for (String key : original.names()) {
          assertArrayEquals(original.readFloats(key), written.readFloats(key), key);
          assertArrayEquals(original.info(key).shape(), written.info(key).shape(), key);
        }
      }
      LoraConfig reread = LoraConfig.readPeftConfig(tmp);
      assertEquals(loaded.config().r(), reread.r());
      assertEquals(loaded.config().loraAlpha(), reread.loraAlpha());
      assertEquals(loaded.config().useRslora(), reread.useRslora());
      assertEquals(loaded.config().targetModules(), reread.targetModules());
    }
  }

  @Test
  void freshAdapterWithTrainedValuesReloadsToTheSameLogits() throws Exception {
    Path out = Path.of("target/peft-check");
    Files.createDirectories(out);
    try (LlamaModel model = LlamaModel.load(CASE.resolve("model"), cpu, DType.F32);
        SafetensorsFile batchFile = SafetensorsFile.open(CASE.resolve("batch.safetensors"))) {
      LoraConfig config = LoraConfig.builder().r(4).loraAlpha(8).targetModules("q_proj", "v_proj", "down_proj").layersToTransform(java.util.List.of(1)).seed(7).build();
      SplittableRandom random = new SplittableRandom(11);
      // Non-zero B, as after training, so that the adapter changes the logits.
      LoraAdapter.WeightValues values =
          new LoraAdapter.WeightValues() {
            @Override
            public float[] a(int layer, TargetModule t) {
              return null;
            }

            @Override
            public float[] b(int layer, TargetModule t) {
              float[] b = new float[t.outFeatures(model.config()) * 4];
              for (int i = 0; i < b.length; i++) {
                b[i] = (float) random.nextGaussian() * 0.1f;
              }
              return b;
            }
          };
      long[] shape = batchFile.info("input_ids").shape();
      TokenBatch batch =
          TokenBatch.padded((int) shape[0], (int) shape[1], batchFile.readInts("input_ids"), batchFile.readInts("labels"), batchFile.readInts("attention_mask"));
      float[] expected;
      float[] base;
      try (LoraAdapter adapter = LoraAdapter.fromValues(model.config(), config, cpu, values);
          Tensor logits = model.logits(batch, adapter);
          Tensor baseLogits = model.logits(batch, null)) {
        expected = cpu.toFloats(logits);
        base = cpu.toFloats(baseLogits);
        PeftAdapters.save(adapter, out.resolve("adapter"), "../model");
      }
      double moved = 0;
      for (int i = 0; i < base.length; i++) {
        moved = Math.max(moved, Math.abs(base[i] - expected[i]));
      }
      assertTrue(moved > 1e-3, "the adapter must change the logits for the check to mean anything: " + moved);
      try (LoraAdapter reloaded = PeftAdapters.load(out.resolve("adapter"), model.config(), cpu);
          Tensor logits = model.logits(batch, reloaded)) {
        assertArrayEquals(expected, cpu.toFloats(logits), 0f);
      }
      new SafetensorsWriter().putFloats("logits", expected, DType.F32, shape[0], shape[1], model.config().vocabSize()).write(out.resolve("expected.safetensors"));
    }
  }
}
