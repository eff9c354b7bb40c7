package io.github.lora4j.core.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How to decode: at most {@code maxNewTokens} per prompt, greedy when {@code temperature == 0},
 * otherwise sampled from the softmax of {@code logits / temperature} restricted to the {@code topK}
 * most likely tokens (0 = all) and then to the smallest set whose probability reaches {@code topP}
 * (1 = all), in the order transformers' {@code generate} applies them. A row stops after a token in
 * {@code stopTokenIds}. Prompts are run {@code batchSize} at a time.
 *
 * <pre>{@code
 * GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(8).stopTokenIds(Set.of(eos)).build();
 * }</pre>
 *
 * @param maxNewTokens transformers' {@code max_new_tokens}
 * @param temperature {@code temperature}; 0 = greedy ({@code do_sample=False})
 * @param topK {@code top_k}; 0 = no limit
 * @param topP {@code top_p}; 1 = no limit
 * @param seed the sampling seed: the same seed, prompts and logits draw the same tokens
 * @param stopTokenIds {@code eos_token_id}
 * @param batchSize prompts decoded together
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, long seed, Set<Integer> stopTokenIds, int batchSize) {

  public GenerationConfig {
    stopTokenIds = Set.copyOf(stopTokenIds);
    List<String> problems = new ArrayList<>();
    if (maxNewTokens < 1) {
      problems.add("maxNewTokens must be >= 1: " + maxNewTokens);
    }
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      problems.add("temperature must be finite and >= 0 (0 = greedy): " + temperature);
    }
    if (topK < 0) {
      problems.add("topK must be >= 0 (0 = no limit): " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      problems.add("topP must be in (0, 1]: " + topP);
    }
    if (batchSize < 1) {
      problems.add("batchSize must be >= 1: " + batchSize);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
  }

  /** Greedy, 32 new tokens, no stop token, batches of 16. */
  public static Builder builder() {
    return new Builder();
  }

  public boolean greedy() {
    return temperature == 0;
  }

  public static final class Builder {
    private int maxNewTokens = 32;
    private double temperature = 0;
    private int topK = 0;
    private double topP = 1;
    private long seed = 42;
    private Set<Integer> stopTokenIds = Set.of();
    private int batchSize = 16;

    private Builder() {}

    public Builder maxNewTokens(int n) {
      this.maxNewTokens = n;
      return this;
    }

    /** 0 decodes greedily; above 0 samples. */
    public Builder temperature(double t) {
      this.temperature = t;
      return this;
    }

    public Builder topK(int k) {
      this.topK = k;
      return this;
    }

    public Builder topP(double p) {
      this.topP = p;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder stopTokenIds(Set<Integer> ids) {
      this.stopTokenIds = ids;
      return this;
    }

    public Builder batchSize(int n) {
      this.batchSize = n;
      return this;
    }

    /** @throws IllegalArgumentException naming every setting out of range */
    public GenerationConfig build() {
      return new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, stopTokenIds, batchSize);
    }
  }
}
