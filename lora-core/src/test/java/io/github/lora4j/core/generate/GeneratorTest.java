package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.model.KvCache;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation with the KV cache on the CPU (fp32). */
class GeneratorTest {
  private static Backend cpu;
  private static GenerationChecks checks;

  @BeforeAll
  static void open() throws Exception {
    cpu = Backends.open(Device.cpu());
    checks = new GenerationChecks(cpu, DType.F32);
  }

  @AfterAll
  static void close() {
    checks.close();
    cpu.close();
  }

  @Test
  void cachedGreedyEqualsRecomputedGreedy() {
    checks.cachedGreedyEqualsRecomputedGreedy(6);
  }

  @Test
  void cachedLogitsEqualFullLogits() {
    checks.cachedLogitsEqualFullLogits(1e-5);
  }

  @Test
  void aPromptGeneratesTheSameAloneAsInABatch() {
    List<int[]> prompts = checks.prompts(3, 4, 8, 2);
    GenerationConfig batched = GenerationConfig.builder().maxNewTokens(5).batchSize(3).build();
    GenerationConfig single = GenerationConfig.builder().maxNewTokens(5).batchSize(1).build();
    Generator g = new Generator(checks.model, checks.adapter);
    assertEquals(g.generate(prompts, single), g.generate(prompts, batched));
  }

  @Test
  void aStopTokenEndsItsRowAndIsLeftOut() {
    Generator g = new Generator(checks.model, checks.adapter);
    List<int[]> prompts = checks.prompts(5, 6, 3);
    int[] free = g.generate(prompts, GenerationConfig.builder().maxNewTokens(6).build()).get(0).tokens();
    int stop = free[2];
    // The first occurrence of the stop token in row 0 ends it there.
    int firstStop = Arrays.stream(free).boxed().toList().indexOf(stop);
    List<Generation> out = g.generate(prompts, GenerationConfig.builder().maxNewTokens(6).stopTokenIds(Set.of(stop)).build());
    assertArrayEquals(Arrays.copyOf(free, firstStop), out.get(0).tokens());
    assertEquals(Generation.StopReason.STOP_TOKEN, out.get(0).stopReason());
  }

  @Test
  void samplingIsReproducibleAndDependsOnTheSeed() {
    Generator g = new Generator(checks.model, checks.adapter);
    List<int[]> prompts = checks.prompts(9, 4, 4, 4, 4);
    GenerationConfig hot = GenerationConfig.builder().maxNewTokens(12).temperature(1.5).seed(1).build();
    List<Generation> a = g.generate(prompts, hot);
    assertEquals(a, g.generate(prompts, hot));
    assertEquals(a, g.generate(prompts, GenerationConfig.builder().maxNewTokens(12).temperature(1.5).seed(1).batchSize(1).build()), "batching does not change draws");
    assertNotEquals(a, g.generate(prompts, GenerationConfig.builder().maxNewTokens(12).temperature(1.5).seed(2).build()));
  }

  @Test
  void topKOfOneIsGreedy() {
    Generator g = new Generator(checks.model, checks.adapter);
    List<int[]> prompts = checks.prompts(4, 5, 2);
    assertEquals(
        g.generate(prompts, GenerationConfig.builder().maxNewTokens(6).build()),
        g.generate(prompts, GenerationConfig.builder().maxNewTokens(6).temperature(0.8).topK(1).seed(5).build()));
  }

  @Test
  void badInputIsRefusedWithTheValueNamed() {
    Generator g = new Generator(checks.model, checks.adapter);
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> g.generate(List.of(new int[] {1}, new int[0]), GenerationConfig.builder().build()));
    assertTrue(empty.getMessage().contains("prompt 1 is empty"), empty.getMessage());
    IllegalArgumentException config =
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().maxNewTokens(0).temperature(-1).topP(0).build());
    assertTrue(config.getMessage().contains("maxNewTokens must be >= 1: 0") && config.getMessage().contains("temperature") && config.getMessage().contains("topP"),
        config.getMessage());
    IllegalArgumentException outside =
        assertThrows(IllegalArgumentException.class, () -> g.generate(List.<int[]>of(new int[] {1, 100_000}), GenerationConfig.builder().build()));
    assertTrue(outside.getMessage().contains("100000"), outside.getMessage());
    try (KvCache cache = checks.model.newCache(1, 2)) {
      IllegalArgumentException full = assertThrows(
          IllegalArgumentException.class, () -> checks.model.extend(cache, new int[] {1, 2, 3}, new int[] {0, 1, 2}, new int[] {1, 1}, null));
      assertTrue(full.getMessage().contains("do not fit the cache"), full.getMessage());
    }
  }
}
