package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.KvCache;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generation checks shared by the CPU test and the GPU test, on the golden tiny Llama (GQA) with
 * its golden adapter: the reference is greedy decoding that recomputes the whole sequence with
 * {@link LlamaModel#logits} for every token (no cache, no padding), whose logits are tested against
 * Hugging Face elsewhere.
 */
final class GenerationChecks implements AutoCloseable {
  static final Path GOLDEN = Files.isDirectory(Path.of("src/test/resources/golden")) ? Path.of("src/test/resources/golden") : Path.of("lora-core/src/test/resources/golden");

  final LlamaModel model;
  final LoraAdapter adapter;

  GenerationChecks(Backend backend, DType dtype) throws Exception {
    this.model = LlamaModel.load(GOLDEN.resolve("llama_gqa/model"), backend, dtype);
    this.adapter = PeftAdapters.load(GOLDEN.resolve("llama_gqa/adapter"), model.config(), backend);
  }

  /** Prompts of different lengths, so a batch of them is left-padded. */
  List<int[]> prompts(long seed, int... lengths) {
    SplittableRandom random = new SplittableRandom(seed);
    List<int[]> prompts = new ArrayList<>();
    for (int n : lengths) {
      int[] p = new int[n];
      for (int i = 0; i < n; i++) {
        p[i] = random.nextInt(model.config().vocabSize());
      }
      prompts.add(p);
    }
    return prompts;
  }

  /** Greedy decoding of one prompt by running the whole sequence again for every token. */
  int[] greedyWithoutCache(int[] prompt, int newTokens) {
    int vocab = model.config().vocabSize();
    int[] seq = prompt.clone();
    int[] out = new int[newTokens];
    for (int step = 0; step < newTokens; step++) {
      try (Tensor logits = model.logits(TokenBatch.padded(1, seq.length, seq, seq, null), adapter)) {
        float[] all = model.backend().toFloats(logits);
        out[step] = TokenSampler.argmax(all, (seq.length - 1) * vocab, vocab);
      }
      seq = java.util.Arrays.copyOf(seq, seq.length + 1);
      seq[seq.length - 1] = out[step];
    }
    return out;
  }

  /** The KV-cache path gives the reference's tokens for a left-padded batch. */
  void cachedGreedyEqualsRecomputedGreedy(int newTokens) {
    List<int[]> prompts = prompts(7, 3, 9, 1, 6);
    List<Generation> got = new Generator(model, adapter).generate(prompts, GenerationConfig.builder().maxNewTokens(newTokens).batchSize(4).build());
    for (int i = 0; i < prompts.size(); i++) {
      assertArrayEquals(greedyWithoutCache(prompts.get(i), newTokens), got.get(i).tokens(), "prompt " + i + " of length " + prompts.get(i).length);
      assertEquals(Generation.StopReason.MAX_NEW_TOKENS, got.get(i).stopReason());
    }
  }

  /**
   * The prefill's logits for each row's last prompt token equal the full forward's at that
   * position, within {@code tolerance}; then each decoded position's logits do too.
   */
  void cachedLogitsEqualFullLogits(double tolerance) {
    int vocab = model.config().vocabSize();
    List<int[]> prompts = prompts(11, 5, 2);
    int promptLength = 5;
    int[] extra = {3, 17};
    int capacity = promptLength + 1;
    int[] ids = new int[2 * promptLength];
    int[] positions = new int[2 * promptLength];
    int[] keyMask = new int[2 * capacity];
    for (int r = 0; r < 2; r++) {
      int[] p = prompts.get(r);
      int pad = promptLength - p.length;
      for (int t = 0; t < p.length; t++) {
        ids[r * promptLength + pad + t] = p[t];
        positions[r * promptLength + pad + t] = t;
        keyMask[r * capacity + pad + t] = 1;
      }
      keyMask[r * capacity + promptLength] = 1;
    }
    try (KvCache cache = model.newCache(2, capacity)) {
      float[] prefill;
      try (Tensor logits = model.extend(cache, ids, positions, keyMask, adapter)) {
        prefill = model.backend().toFloats(logits);
      }
      float[] next;
      try (Tensor logits = model.extend(cache, extra, new int[] {prompts.get(0).length, prompts.get(1).length}, keyMask, adapter)) {
        next = model.backend().toFloats(logits);
      }
      assertEquals(capacity, cache.length());
      for (int r = 0; r < 2; r++) {
        int[] p = prompts.get(r);
        int[] longer = java.util.Arrays.copyOf(p, p.length + 1);
        longer[p.length] = extra[r];
        try (Tensor full = model.logits(TokenBatch.padded(1, longer.length, longer, longer, null), adapter)) {
          float[] f = model.backend().toFloats(full);
          for (int v = 0; v < vocab; v++) {
            double want = f[(p.length - 1) * vocab + v];
            double wantNext = f[p.length * vocab + v];
            assertTrue(Math.abs(prefill[r * vocab + v] - want) <= tolerance, "row " + r + " prefill logit " + v + ": " + prefill[r * vocab + v] + " vs " + want);
            assertTrue(Math.abs(next[r * vocab + v] - wantNext) <= tolerance, "row " + r + " decoded logit " + v + ": " + next[r * vocab + v] + " vs " + wantNext);
          }
        }
      }
    }
  }

  @Override
  public void close() {
    adapter.close();
    model.close();
  }
}
