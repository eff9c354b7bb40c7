package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Generation with the KV cache on the GPU: the CPU test's checks (the GPU machine has no CPU
 * backend: DJL's natives are not shipped there).
 */
@Tag("gpu")
class GeneratorGpuTest {

  @Test
  void fp32CachedGreedyEqualsRecomputedGreedy() throws Exception {
    try (Backend gpu = Backends.open(Device.cuda(0));
        GenerationChecks onGpu = new GenerationChecks(gpu, DType.F32)) {
      onGpu.cachedGreedyEqualsRecomputedGreedy(8);
      onGpu.cachedLogitsEqualFullLogits(1e-4);
      List<int[]> prompts = onGpu.prompts(21, 7, 3, 12, 5, 1);
      Generator generator = new Generator(onGpu.model, onGpu.adapter);
      assertEquals(
          generator.generate(prompts, GenerationConfig.builder().maxNewTokens(10).batchSize(1).build()),
          generator.generate(prompts, GenerationConfig.builder().maxNewTokens(10).batchSize(3).build()),
          "a prompt generates the same alone as in a padded batch");
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
