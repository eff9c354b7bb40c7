package io.github.lora4j.core.bench;

import io.github.lora4j.core.generate.GenerationConfig;
import io.github.lora4j.core.generate.Generator;
import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.model.RandomWeights;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times batched greedy generation with the KV cache for a bundled config's shape with random
 * weights and a LoRA adapter (r=32 on q/k/v/o): the pricer evaluation's shape by default, 16 prompts
 * of 170 tokens and 8 new tokens, and a longer decode. Prints one JSON line per case.
 *
 * <p>Arguments (optional): {@code config=llama-3.2-1b device=cuda dtype=bf16 batch=16 prompt=170
 * new=8,64 repeats=3}.
 */
public final class GenerateBenchmark {
  public static void main(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      a.put(kv[0], kv[1]);
    }
    ModelConfig config = ModelConfig.bundled(a.getOrDefault("config", "llama-3.2-1b"));
    DType dtype = DType.fromSafetensors(a.getOrDefault("dtype", "bf16").toUpperCase(Locale.ROOT));
    int batch = Integer.parseInt(a.getOrDefault("batch", "16"));
    int promptLength = Integer.parseInt(a.getOrDefault("prompt", "170"));
    int repeats = Integer.parseInt(a.getOrDefault("repeats", "3"));
    LoraConfig lora = LoraConfig.builder().r(32).loraAlpha(64).targetModules("q_proj", "k_proj", "v_proj", "o_proj").seed(1).build();
    SplittableRandom random = new SplittableRandom(3);
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      // Lengths vary by up to 10% so the batch is left-padded, as real prompts are.
      int n = promptLength - random.nextInt(promptLength / 10 + 1);
      prompts.add(random.ints(n, 0, config.vocabSize()).toArray());
    }
    try (Backend backend = Backends.open(Device.parse(a.getOrDefault("device", "cuda")));
        LlamaModel model = LlamaModel.create(config, backend, dtype, new RandomWeights(0, 0.02));
        LoraAdapter adapter = LoraAdapter.initialize(config, lora, backend)) {
      Generator generator = new Generator(model, adapter);
      for (String n : a.getOrDefault("new", "8,64").split(",")) {
        int newTokens = Integer.parseInt(n);
        GenerationConfig gc = GenerationConfig.builder().maxNewTokens(newTokens).batchSize(batch).build();
        generator.generate(prompts, gc);
        backend.resetPeakBytes();
        long best = Long.MAX_VALUE;
        for (int r = 0; r < repeats; r++) {
          long t0 = System.nanoTime();
          generator.generate(prompts, gc);
          best = Math.min(best, System.nanoTime() - t0);
        }
        double seconds = best / 1e9;
        System.out.printf(Locale.ROOT,
            "{\"config\":\"%s\",\"dtype\":\"%s\",\"device\":\"%s\",\"batch\":%d,\"prompt\":%d,\"new_tokens\":%d,\"seconds\":%.4f,\"generated_tokens_per_s\":%.1f,\"peak_gib\":%.2f}%n",
            a.getOrDefault("config", "llama-3.2-1b"), dtype, backend.describe().replace("\"", "'"), batch, promptLength, newTokens, seconds, batch * newTokens / seconds,
            backend.peakBytes() / (double) (1L << 30));
      }
    }
  }
}
