package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraLayout;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model and LoRA against golden values from transformers 5.17 + PEFT 0.21 (made by
 * tools/golden/model_parity.py): logits, loss, every LoRA gradient, the base model's logits and the
 * merged model's logits, for Llama with GQA, tied bf16 embeddings, Qwen2 with biases and rsLoRA,
 * and llama3 rope scaling.
 */
class HuggingFaceParityTest {
  /** The fixtures, found from the module directory (Maven) or the repository root (the GPU runner). */
  static final Path GOLDEN =
      java.nio.file.Files.isDirectory(Path.of("src/test/resources/golden")) ? Path.of("src/test/resources/golden") : Path.of("lora-core/src/test/resources/golden");
  static final double LOGITS_ABS = 1e-4;
  static final double LOSS_REL = 1e-5;
  static final double GRAD_REL = 1e-4;

  private static Backend cpu;

  @BeforeAll
  static void open() {
    cpu = Backends.open(Device.cpu());
  }

  @AfterAll
  static void close() {
    cpu.close();
  }

  /** A golden case's inputs and expectations. */
  record Case(String name, TokenBatch batch, int[] mask, SafetensorsFile expected) implements AutoCloseable {
    static Case load(String name) throws Exception {
      Path dir = GOLDEN.resolve(name);
      try (SafetensorsFile b = SafetensorsFile.open(dir.resolve("batch.safetensors"))) {
        long[] shape = b.info("input_ids").shape();
        int[] mask = b.readInts("attention_mask");
        TokenBatch batch = TokenBatch.padded((int) shape[0], (int) shape[1], b.readInts("input_ids"), b.readInts("labels"), mask);
        return new Case(name, batch, mask, SafetensorsFile.open(dir.resolve("expected.safetensors")));
      }
    }

    Path dir() {
      return GOLDEN.resolve(name);
    }

    @Override
    public void close() {
      expected.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama_gqa", "llama_tied_bf16", "qwen2_bias", "llama3_rope"})
  void logitsLossAndGradientsMatchPeft(String name) throws Exception {
    try (Case c = Case.load(name);
        LlamaModel model = LlamaModel.load(c.dir().resolve("model"), cpu, DType.F32);
        LoraAdapter adapter = PeftAdapters.load(c.dir().resolve("adapter"), model.config(), cpu)) {
      try (Tensor logits = model.logits(c.batch(), adapter)) {
        assertClose(name + " logits", c.expected().readFloats("logits"), cpu.toFloats(logits), LOGITS_ABS);
      }
      try (Tensor base = model.logits(c.batch(), null)) {
        assertClose(name + " base logits (adapter disabled)", c.expected().readFloats("logits_base"), cpu.toFloats(base), LOGITS_ABS);
      }

      int count = c.batch().countedTargets();
      assertEquals((int) c.expected().readFloats("token_count")[0], count, "tokens that carry loss");
      adapter.zeroGradients();
      float lossSum;
      try (Tensor sum = model.forwardBackward(c.batch(), adapter, 1f / count, -1)) {
        lossSum = cpu.toFloats(sum)[0];
      }
      double loss = lossSum / count;
      double expectedLoss = c.expected().readFloats("loss")[0];
      double lossError = Math.abs(loss - expectedLoss) / Math.abs(expectedLoss);
      assertTrue(lossError <= LOSS_REL, name + " loss " + loss + " vs " + expectedLoss + ": relative error " + lossError + " > " + LOSS_REL);

      int checked = 0;
      for (LoraModule m : adapter.modules()) {
        String a = LoraLayout.loraAKey(m.layer(), m.target());
        String b = LoraLayout.loraBKey(m.layer(), m.target());
        assertRelative(name + " grad " + a, c.expected().readFloats("grad." + a), cpu.toFloats(m.gradA()), GRAD_REL);
        assertRelative(name + " grad " + b, c.expected().readFloats("grad." + b), cpu.toFloats(m.gradB()), GRAD_REL);
        checked += 2;
      }
      assertEquals(28, checked, "LoRA gradients compared");

      model.mergeAdapter(adapter);
      try (Tensor merged = model.logits(c.batch(), null)) {
        assertClose(name + " merged logits", c.expected().readFloats("merged_logits"), cpu.toFloats(merged), LOGITS_ABS);
      }
    }
  }

  static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
    assertEquals(expected.length, actual.length, what + ": element count");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.abs(expected[i] - actual[i]);
      if (!(e <= worst)) {
        worst = e;
        at = i;
      }
    }
    double w = worst;
    int i = at;
    assertTrue(w <= tolerance, () -> what + ": max abs error " + w + " at " + i + " (expected " + expected[i] + ", got " + actual[i] + ") > " + tolerance);
  }

  static void assertRelative(String what, float[] expected, float[] actual, double tolerance) {
    assertEquals(expected.length, actual.length, what + ": element count");
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < expected.length; i++) {
      double d = (double) expected[i] - actual[i];
      diff += d * d;
      norm += (double) expected[i] * expected[i];
    }
    double rel = Math.sqrt(diff) / Math.sqrt(norm);
    assertTrue(norm > 0, what + ": the golden gradient is zero, the test would prove nothing");
    assertTrue(rel <= tolerance, () -> what + ": relative error |d|/|g| = " + rel + " > " + tolerance);
  }
}
