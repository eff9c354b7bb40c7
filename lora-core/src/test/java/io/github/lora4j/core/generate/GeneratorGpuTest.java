package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Generation with the KV cache on the GPU: the CPU test's checks, and the CPU's tokens. */
@Tag("gpu")
class GeneratorGpuTest {

  @Test
  void fp32CachedGreedyEqualsRecomputedGreedyAndTheCpu() throws Exception {
    try (Backend gpu = Backends.open(Device.cuda(0));
        Backend cpu = Backends.open(Device.cpu());
        GenerationChecks onGpu = new GenerationChecks(gpu, DType.F32);
        GenerationChecks onCpu = new GenerationChecks(cpu, DType.F32)) {
      onGpu.cachedGreedyEqualsRecomputedGreedy(8);
      onGpu.cachedLogitsEqualFullLogits(1e-4);
      List<int[]> prompts = onCpu.prompts(21, 7, 3, 12, 5, 1);
      GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(10).batchSize(3).build();
      assertEquals(new Generator(onCpu.model, onCpu.adapter).generate(prompts, greedy), new Generator(onGpu.model, onGpu.adapter).generate(prompts, greedy));
    }
  }

  /** In bf16 the cached and the full forward round differently, so logits agree to bf16 precision. */
  @Test
  void bf16CachedLogitsEqualFullLogits() throws Exception {
    try (Backend gpu = Backends.open(Device.cuda(0));
        GenerationChecks onGpu = new GenerationChecks(gpu, DType.BF16)) {
      onGpu.cachedLogitsEqualFullLogits(0.05);
    }
  }
}
