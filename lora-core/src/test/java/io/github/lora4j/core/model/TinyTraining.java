package io.github.lora4j.core.model;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * A short LoRA training run on the golden tiny Llama with plain SGD written with backend ops
 * (lora-optim's optimizers come later): it memorises one fixed batch, so its loss must fall.
 * Shared by the CPU test and the GPU test.
 */
final class TinyTraining {
  private TinyTraining() {}

  /** Returns {first loss, last loss}. */
  static float[] run(Backend backend, DType dtype, int steps, float learningRate) throws Exception {
    try (LlamaModel model = LlamaModel.load(HuggingFaceParityTest.GOLDEN.resolve("llama_gqa/model"), backend, dtype)) {
      LoraConfig config = LoraConfig.builder().r(8).loraAlpha(16).loraDropout(0.05).targetModules("all-linear").seed(3).build();
      SplittableRandom random = new SplittableRandom(5);
      int batch = 4;
      int seq = 16;
      int[] ids = new int[batch * seq];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = random.nextInt(model.config().vocabSize());
      }
      TokenBatch tokens = TokenBatch.padded(batch, seq, ids, ids.clone(), null);
      float scale = 1f / tokens.countedTargets();
      float first = Float.NaN;
      float last = Float.NaN;
      try (LoraAdapter adapter = LoraAdapter.initialize(model.config(), config, backend)) {
        for (int step = 0; step < steps; step++) {
          adapter.zeroGradients();
          try (Tensor lossSum = model.forwardBackward(tokens, adapter, scale, step)) {
            for (LoraModule m : adapter.modules()) {
              backend.axpy(-learningRate, m.gradA(), m.a());
              backend.axpy(-learningRate, m.gradB(), m.b());
            }
            if (step == 0 || step == steps - 1) {
              float loss = backend.toFloats(lossSum)[0] * scale;
              if (step == 0) {
                first = loss;
              } else {
                last = loss;
              }
            }
          }
        }
      }
      return new float[] {first, last};
    }
  }
}
