package io.github.lora4j.core.bench;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.model.RandomWeights;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times one LoRA training step (forward and backward; the optimizer is not in yet) of a model with
 * a bundled config's shape and random weights: by default Llama 3.2 1B in bf16, LoRA r=32, alpha=64,
 * dropout 0.1 on q/k/v/o, batch 16 x 182, the seed workload's settings. Prints one JSON line.
 *
 * <p>Arguments (all optional): {@code config=llama-3.2-1b device=cuda dtype=bf16 batch=16 seq=182
 * steps=20 warmup=3 layers=N checkpointing=false optimizer=adamw|paged|none} ({@code layers} truncates the model, for quick runs
 * on the CPU).
 */
public final class LoraStepBenchmark {
  public static void main(String[] args) {
    java.util.Map<String, String> a = new java.util.HashMap<>();
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      a.put(kv[0], kv[1]);
    }
    ModelConfig config = ModelConfig.bundled(a.getOrDefault("config", "llama-3.2-1b"));
    if (a.containsKey("layers")) {
      config = config.toBuilder().numHiddenLayers(Integer.parseInt(a.get("layers"))).build();
    }
    DType dtype = DType.fromSafetensors(a.getOrDefault("dtype", "bf16").toUpperCase(Locale.ROOT));
    int batch = Integer.parseInt(a.getOrDefault("batch", "16"));
    int seq = Integer.parseInt(a.getOrDefault("seq", "182"));
    int steps = Integer.parseInt(a.getOrDefault("steps", "20"));
    int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
    LoraConfig lora = LoraConfig.builder().r(32).loraAlpha(64).loraDropout(0.1).targetModules("q_proj", "k_proj", "v_proj", "o_proj").seed(1).build();

    try (Backend backend = Backends.open(Device.parse(a.getOrDefault("device", "cuda")))) {
      long t0 = System.nanoTime();
      try (LlamaModel model = LlamaModel.create(config, backend, dtype, new RandomWeights(0, 0.02));
          LoraAdapter adapter = LoraAdapter.initialize(config, lora, backend)) {
        model.setGradientCheckpointing(Boolean.parseBoolean(a.getOrDefault("checkpointing", "false")));
        backend.synchronize();
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        java.util.List<io.github.lora4j.optim.Parameter> params = new java.util.ArrayList<>();
        for (io.github.lora4j.core.lora.LoraModule m : adapter.modules()) {
          params.add(new io.github.lora4j.optim.Parameter(m.peftPrefix() + ".lora_A", m.a(), m.gradA()));
          params.add(new io.github.lora4j.optim.Parameter(m.peftPrefix() + ".lora_B", m.b(), m.gradB()));
        }
        String opt = a.getOrDefault("optimizer", "adamw");
        io.github.lora4j.optim.Optimizer optimizer =
            switch (opt) {
              case "adamw" -> io.github.lora4j.optim.AdamW.builder().learningRate(1e-4).build(params.toArray(io.github.lora4j.optim.Parameter[]::new));
              case "paged" -> io.github.lora4j.optim.PagedAdamW.builder().pagePoolBytes(64L << 20).learningRate(1e-4).build(params.toArray(io.github.lora4j.optim.Parameter[]::new));
              default -> null;
            };
        SplittableRandom random = new SplittableRandom(3);
        int[] ids = new int[batch * seq];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = random.nextInt(config.vocabSize());
        }
        TokenBatch tokens = TokenBatch.padded(batch, seq, ids, ids.clone(), null);
        float scale = 1f / tokens.countedTargets();
        long weightBytes = backend.currentBytes();
        float loss = 0;
        for (int i = 0; i < warmup; i++) {
          adapter.zeroGradients();
          try (Tensor l = model.forwardBackward(tokens, adapter, scale, i)) {
            loss = backend.toFloats(l)[0] * scale;
          }
          if (optimizer != null) {
            optimizer.step();
          }
        }
        backend.synchronize();
        backend.resetPeakBytes();
        long start = System.nanoTime();
        Tensor last = null;
        for (int i = 0; i < steps; i++) {
          adapter.zeroGradients();
          if (last != null) {
            last.close();
          }
          last = model.forwardBackward(tokens, adapter, scale, warmup + i);
          if (optimizer != null) {
            optimizer.step();
          }
        }
        backend.synchronize();
        double ms = (System.nanoTime() - start) / 1e6 / steps;
        loss = backend.toFloats(last)[0] * scale;
        last.close();
        System.out.printf(
            Locale.ROOT,
            "{\"what\":\"lora4j LoRA step\",\"optimizer\":\"%s\",\"checkpointing\":%b,\"device\":\"%s\",\"config\":\"%s\",\"layers\":%d,\"dtype\":\"%s\",\"batch\":%d,\"seq\":%d,"
                + "\"trainable\":%d,\"ms_per_step\":%.2f,\"tokens_per_s\":%.0f,\"peak_gib\":%.2f,\"weights_gib\":%.2f,\"load_s\":%.1f,\"loss\":%.4f}%n",
            opt,
            model.gradientCheckpointing(),
            backend.describe(),
            a.getOrDefault("config", "llama-3.2-1b"),
            config.numHiddenLayers(),
            dtype,
            batch,
            seq,
            adapter.parameterCount(),
            ms,
            batch * seq / (ms / 1000),
            backend.peakBytes() / (double) (1L << 30),
            weightBytes / (double) (1L << 30),
            loadSeconds,
            loss);
        if (optimizer != null) {
          optimizer.close();
        }
      }
    }
  }
}
