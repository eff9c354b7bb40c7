package io.github.lora4j.core.generate;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.model.KvCache;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates tokens for batches of prompts with a key/value cache: each batch's prompts are
 * left-padded to one length and run through the model once (the prefill), then every new token
 * costs one position per row. Positions count from each row's first real token, as transformers'
 * {@code generate} does with an attention mask, so a padded prompt generates what it would alone
 * (up to the backend's rounding).
 *
 * <pre>{@code
 * Generator generator = new Generator(model, adapter);
 * List<Generation> out = generator.generate(List.of(promptIds), GenerationConfig.builder().maxNewTokens(8).build());
 * }</pre>
 */
public final class Generator {
  private final LlamaModel model;
  private final LoraAdapter adapter;

  /** A generator for {@code model} with {@code adapter} applied; a null adapter generates with the base model. */
  public Generator(LlamaModel model, LoraAdapter adapter) {
    this.model = model;
    this.adapter = adapter;
  }

  /** One {@link Generation} per prompt, in order. Prompts must hold at least one token. */
  public List<Generation> generate(List<int[]> prompts, GenerationConfig config) {
    for (int i = 0; i < prompts.size(); i++) {
      if (prompts.get(i).length == 0) {
        throw new IllegalArgumentException("prompt " + i + " is empty: generation needs at least one token to continue");
      }
    }
    List<Generation> out = new ArrayList<>(prompts.size());
    for (int first = 0; first < prompts.size(); first += config.batchSize()) {
      out.addAll(generateBatch(prompts.subList(first, Math.min(prompts.size(), first + config.batchSize())), first, config));
    }
    return out;
  }

  private List<Generation> generateBatch(List<int[]> prompts, int firstIndex, GenerationConfig c) {
    int b = prompts.size();
    int promptLength = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
    int capacity = promptLength + c.maxNewTokens();
    int vocab = model.config().vocabSize();
    int[] ids = new int[b * promptLength];
    int[] positions = new int[b * promptLength];
    int[] keyMask = new int[b * capacity];
    int[] lengths = new int[b];
    SplittableRandom[] rngs = new SplittableRandom[b];
    for (int r = 0; r < b; r++) {
      int[] p = prompts.get(r);
      int pad = promptLength - p.length;
      lengths[r] = p.length;
      // Padding positions carry token 0 at position 0; the key mask hides them from every query.
      for (int t = 0; t < p.length; t++) {
        ids[r * promptLength + pad + t] = p[t];
        positions[r * promptLength + pad + t] = t;
        keyMask[r * capacity + pad + t] = 1;
      }
      // Each prompt's draws depend on the seed and the prompt's index, not on its batch neighbours.
      rngs[r] = new SplittableRandom(c.seed() * 0x9E3779B97F4A7C15L + firstIndex + r);
    }
    List<int[]> generated = new ArrayList<>(b);
    Generation.StopReason[] reasons = new Generation.StopReason[b];
    int[] counts = new int[b];
    for (int r = 0; r < b; r++) {
      generated.add(new int[c.maxNewTokens()]);
    }
    try (Scope scope = model.backend().scope();
        KvCache cache = model.newCache(b, capacity)) {
      Tensor logits = model.extend(cache, ids, positions, keyMask, adapter);
      for (int step = 0; step < c.maxNewTokens(); step++) {
        float[] host = model.backend().toFloats(logits);
        logits.close();
        int[] next = new int[b];
        int[] nextPositions = new int[b];
        boolean running = false;
        for (int r = 0; r < b; r++) {
          if (reasons[r] != null) {
            continue;
          }
          int token = c.greedy() ? TokenSampler.argmax(host, r * vocab, vocab) : TokenSampler.sample(host, r * vocab, vocab, c, rngs[r]);
          if (c.stopTokenIds().contains(token)) {
            reasons[r] = Generation.StopReason.STOP_TOKEN;
            continue;
          }
          generated.get(r)[counts[r]++] = token;
          next[r] = token;
          nextPositions[r] = lengths[r] + step;
          running |= counts[r] < c.maxNewTokens();
        }
        if (!running) {
          break;
        }
        // Finished rows still take a position (token 0) so the batch stays rectangular; nothing reads it.
        for (int r = 0; r < b; r++) {
          keyMask[r * capacity + promptLength + step] = 1;
        }
        logits = model.extend(cache, next, nextPositions, keyMask, adapter);
      }
    }
    List<Generation> out = new ArrayList<>(b);
    for (int r = 0; r < b; r++) {
      Generation.StopReason reason = reasons[r] == null ? Generation.StopReason.MAX_NEW_TOKENS : reasons[r];
      out.add(new Generation(Arrays.copyOf(generated.get(r), counts[r]), reason));
    }
    return out;
  }
}
