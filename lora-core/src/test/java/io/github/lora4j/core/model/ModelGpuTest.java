package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraLayout;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model on the GPU against the same transformers + PEFT golden values as {@link
 * HuggingFaceParityTest}: in fp32 to the CPU's tolerances; in bf16 (weights and activations bf16,
 * LoRA and its gradients fp32) the loss within 1e-2 relative and every LoRA gradient with cosine
 * similarity >= 0.999 to the fp32 golden one. Plus 200 training steps whose loss must halve.
 */
@Tag("gpu")
class ModelGpuTest {
  private static Backend gpu;

  @BeforeAll
  static void open() {
    gpu = Backends.open(Device.cuda(0));
  }

  @AfterAll
  static void close() {
    gpu.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama_gqa", "llama_tied_bf16", "qwen2_bias", "llama3_rope"})
  void fp32MatchesPeft(String name) throws Exception {
    try (HuggingFaceParityTest.Case c = HuggingFaceParityTest.Case.load(name);
        LlamaModel model = LlamaModel.load(c.dir().resolve("model"), gpu, DType.F32);
        LoraAdapter adapter = PeftAdapters.load(c.dir().resolve("adapter"), model.config(), gpu)) {
      try (Tensor logits = model.logits(c.batch(), adapter)) {
        HuggingFaceParityTest.assertClose(name + " gpu fp32 logits", c.expected().readFloats("logits"), gpu.toFloats(logits), HuggingFaceParityTest.LOGITS_ABS);
      }
      int count = c.batch().countedTargets();
      adapter.zeroGradients();
      double loss;
      try (Tensor sum = model.forwardBackward(c.batch(), adapter, 1f / count, -1)) {
        loss = gpu.toFloats(sum)[0] / (double) count;
      }
      double want = c.expected().readFloats("loss")[0];
      assertTrue(Math.abs(loss - want) / want <= HuggingFaceParityTest.LOSS_REL, name + " gpu fp32 loss " + loss + " vs " + want);
      for (LoraModule m : adapter.modules()) {
        String a = LoraLayout.loraAKey(m.layer(), m.target());
        String b = LoraLayout.loraBKey(m.layer(), m.target());
        HuggingFaceParityTest.assertRelative(name + " gpu fp32 grad " + a, c.expected().readFloats("grad." + a), gpu.toFloats(m.gradA()), HuggingFaceParityTest.GRAD_REL);
        HuggingFaceParityTest.assertRelative(name + " gpu fp32 grad " + b, c.expected().readFloats("grad." + b), gpu.toFloats(m.gradB()), HuggingFaceParityTest.GRAD_REL);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama_gqa", "llama_tied_bf16", "qwen2_bias", "llama3_rope"})
  void bf16IsCloseToPeft(String name) throws Exception {
    try (HuggingFaceParityTest.Case c = HuggingFaceParityTest.Case.load(name);
        LlamaModel model = LlamaModel.load(c.dir().resolve("model"), gpu, DType.BF16);
        LoraAdapter adapter = PeftAdapters.load(c.dir().resolve("adapter"), model.config(), gpu)) {
      int count = c.batch().countedTargets();
      adapter.zeroGradients();
      double loss;
      try (Tensor sum = model.forwardBackward(c.batch(), adapter, 1f / count, -1)) {
        loss = gpu.toFloats(sum)[0] / (double) count;
      }
      double want = c.expected().readFloats("loss")[0];
      double rel = Math.abs(loss - want) / want;
      assertTrue(rel <= 1e-2, name + " gpu bf16 loss " + loss + " vs fp32 golden " + want + ": relative error " + rel + " > 1e-2");
      double worst = 1;
      String worstKey = "";
      for (LoraModule m : adapter.modules()) {
        for (boolean isA : new boolean[] {true, false}) {
          String key = isA ? LoraLayout.loraAKey(m.layer(), m.target()) : LoraLayout.loraBKey(m.layer(), m.target());
          double cos = cosine(c.expected().readFloats("grad." + key), gpu.toFloats(isA ? m.gradA() : m.gradB()));
          if (cos < worst) {
            worst = cos;
            worstKey = key;
          }
        }
      }
      assertTrue(worst >= 0.999, name + " gpu bf16: gradient cosine similarity " + worst + " < 0.999 for " + worstKey);
    }
  }

  @Test
  void tinyModelLossHalvesIn200BfSteps() throws Exception {
    long before = gpu.currentBytes();
    float[] loss = TinyTraining.run(gpu, DType.BF16, 200, 0.5f);
    assertTrue(loss[1] <= 0.5f * loss[0], "bf16 loss went from " + loss[0] + " to " + loss[1] + ", not below half");
    assertEquals(before, gpu.currentBytes(), "device bytes after the run");
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
