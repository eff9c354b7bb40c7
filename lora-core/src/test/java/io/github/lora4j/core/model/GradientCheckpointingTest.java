package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Gradient checkpointing recomputes each layer's forward and must give the very same gradients. */
class GradientCheckpointingTest {
  private static Backend cpu;
  private static LlamaModel model;

  @BeforeContainer
  static void open() throws Exception {
    cpu = Backends.open(Device.cpu());
    model = LlamaModel.load(HuggingFaceParityTest.GOLDEN.resolve("qwen2_bias/model"), cpu, DType.F32);
  }

  @AfterContainer
  static void close() {
    model.close();
    cpu.close();
  }

  @Property(tries = 5)
  void sameLossAndGradientsWithAndWithoutCheckpointing(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int batchSize) {
    SplittableRandom random = new SplittableRandom(seed);
    int seq = 9;
    int[] ids = new int[batchSize * seq];
    int[] mask = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(model.config().vocabSize());
      mask[i] = i % seq < seq - (i / seq) ? 1 : 0;
    }
    TokenBatch batch = TokenBatch.padded(batchSize, seq, ids, ids.clone(), mask);
    LoraConfig config = LoraConfig.builder().r(4).loraAlpha(8).loraDropout(0.2).targetModules("all-linear").seed(seed).build();
    try (LoraAdapter adapter = LoraAdapter.initialize(model.config(), config, cpu)) {
      // Non-zero B, so that every gradient path is exercised.
      for (LoraModule m : adapter.modules()) {
        float[] b = new float[(int) m.b().numel()];
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) random.nextGaussian() * 0.1f;
        }
        try (Tensor t = cpu.fromFloats(b, m.b().shape(), DType.F32)) {
          cpu.copyInto(t, m.b());
        }
      }
      float[] plain = run(adapter, batch, false, seed);
      List<float[]> plainGrads = grads(adapter);
      long before = cpu.currentBytes();
      float[] checkpointed = run(adapter, batch, true, seed);
      assertEquals(before, cpu.currentBytes(), "a checkpointed step leaks");
      assertArrayEquals(plain, checkpointed, "loss");
      List<float[]> ckptGrads = grads(adapter);
      for (int i = 0; i < plainGrads.size(); i++) {
        assertArrayEquals(plainGrads.get(i), ckptGrads.get(i), "gradient " + i);
      }
      assertTrue(plainGrads.stream().anyMatch(g -> g[0] != 0f), "gradients are not trivially zero");
    } finally {
      model.setGradientCheckpointing(false);
    }
  }

  private static float[] run(LoraAdapter adapter, TokenBatch batch, boolean checkpointing, long seed) {
    model.setGradientCheckpointing(checkpointing);
    adapter.zeroGradients();
    try (Tensor loss = model.forwardBackward(batch, adapter, 1f / batch.countedTargets(), seed & Long.MAX_VALUE)) {
      return cpu.toFloats(loss);
    }
  }

  private static List<float[]> grads(LoraAdapter adapter) {
    List<float[]> out = new ArrayList<>();
    for (LoraModule m : adapter.modules()) {
      out.add(cpu.toFloats(m.gradA()));
      out.add(cpu.toFloats(m.gradB()));
    }
    return out;
  }
}
