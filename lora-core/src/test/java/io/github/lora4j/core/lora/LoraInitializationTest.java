package io.github.lora4j.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * PEFT's default LoRA initialisation: A from Kaiming-uniform with a = sqrt(5), i.e. uniform on
 * [-1/sqrt(in), 1/sqrt(in)], B zero, reproducible from the seed.
 */
class LoraInitializationTest {
  private static Backend cpu;
  private static final ModelConfig TINY = ModelConfig.bundled("llama-3.2-1b").toBuilder()
      .vocabSize(64).hiddenSize(64).intermediateSize(96).numHiddenLayers(2).numAttentionHeads(4).numKeyValueHeads(2).headDim(16).build();

  @BeforeContainer
  static void open() {
    cpu = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    cpu.close();
  }

  @Property(tries = 20)
  void aIsUniformWithinKaimingBoundAndBIsZero(@ForAll @IntRange(min = 1, max = 16) int r, @ForAll long seed) {
    LoraConfig config = LoraConfig.builder().r(r).loraAlpha(2 * r).targetModules("all-linear").seed(seed).build();
    try (LoraAdapter adapter = LoraAdapter.initialize(TINY, config, cpu)) {
      assertEquals(new LoraLayout(TINY, config).trainableParameterCount(), adapter.parameterCount());
      // A / bound is uniform on [-1, 1] (variance 1/3) for every module: pooled over the adapter
      // (at least 960 draws) the sample variance is within 20% (about 7 standard deviations).
      double sumSq = 0;
      long draws = 0;
      for (LoraModule m : adapter.modules()) {
        int in = m.target().inFeatures(TINY);
        double bound = 1 / Math.sqrt(in);
        for (float v : cpu.toFloats(m.a())) {
          assertTrue(Math.abs(v) <= bound, m.peftPrefix() + ": |A| = " + Math.abs(v) + " > 1/sqrt(" + in + ")");
          sumSq += (v / bound) * (v / bound);
          draws++;
        }
        for (float v : cpu.toFloats(m.b())) {
          assertEquals(0f, v, m.peftPrefix() + ": B starts at zero");
        }
      }
      double variance = sumSq / draws;
      assertTrue(Math.abs(variance * 3 - 1) < 0.2, "variance of A / bound " + variance + " vs 1/3 over " + draws + " draws");
    }
  }

  @Property(tries = 5)
  void sameSeedSameAdapter(@ForAll long seed) {
    LoraConfig config = LoraConfig.builder().r(4).loraAlpha(8).seed(seed).build();
    try (LoraAdapter x = LoraAdapter.initialize(TINY, config, cpu);
        LoraAdapter y = LoraAdapter.initialize(TINY, config, cpu)) {
      for (int i = 0; i < x.modules().size(); i++) {
        assertArrayEquals(cpu.toFloats(x.modules().get(i).a()), cpu.toFloats(y.modules().get(i).a()));
      }
    }
  }
}
