package io.github.lora4j.core.demo;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.model.ModelType;
import io.github.lora4j.core.model.RandomWeights;
import io.github.lora4j.core.model.WeightSource;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.PricedExample;
import io.github.lora4j.data.PricerData;
import io.github.lora4j.data.PricerItem;
import io.github.lora4j.data.SyntheticPricer;
import io.github.lora4j.data.Tokenizer;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The embedded pricer demo ({@code lora4j train --preset pricer-demo}): everything a LoRA run needs,
 * made here without a download. A tiny Llama with seeded random weights, a small word-level
 * tokenizer for the synthetic listings, and the synthetic pricer data curated as the course curates
 * real listings, written as a Hugging Face model directory and prompt-completion JSONL files.
 *
 * <pre>{@code
 * PricerDemo demo = PricerDemo.builder().build();
 * PricerDemo.Prepared in = demo.prepare(Path.of("runs/pricer-demo"));
 * TrainingResult result = demo.trainer(in).outputDir(Path.of("runs/pricer-demo")).build().fit();
 * }</pre>
 *
 * The steps are separate so that a caller can bring its own model ({@link #writeData} with that
 * model's tokenizer) and look at the evaluation examples before and after training ({@link
 * DemoData#evalExamples}).
 */
public final class PricerDemo {
  /** The preset's name on the command line. */
  public static final String NAME = "pricer-demo";

  /**
   * The seed of the listings the tokenizer's vocabulary is read from. Fixed, so that every demo
   * model has the same tokenizer whatever its data seed; 2,000 listings name every word of {@link
   * SyntheticPricer}'s lists many times over (tests check many seeds for unknown tokens). Made here
   * at prepare time rather than shipped, so it follows SyntheticPricer when its lists change.
   */
  private static final long VOCABULARY_SEED = 0x5eed;

  private static final int VOCABULARY_ITEMS = 2_000;

  /** The course's budget of prompt and completion tokens, for a real model's tokenizer. */
  public static final int COURSE_CONTENT_TOKENS = 179;

  private final long seed;
  private final int trainExamples;
  private final int evalExamples;
  private final int maxContentTokens;
  private final int numHiddenLayers;
  private final int hiddenSize;
  private final int numAttentionHeads;
  private final int numKeyValueHeads;
  private final int intermediateSize;
  private final double initStd;

  private PricerDemo(Builder b) {
    this.seed = b.seed;
    this.trainExamples = b.trainExamples;
    this.evalExamples = b.evalExamples;
    this.maxContentTokens = b.maxContentTokens;
    this.numHiddenLayers = b.numHiddenLayers;
    this.hiddenSize = b.hiddenSize;
    this.numAttentionHeads = b.numAttentionHeads;
    this.numKeyValueHeads = b.numKeyValueHeads;
    this.intermediateSize = b.intermediateSize;
    this.initStd = b.initStd;
  }

  /** The demo's defaults: seed 42, 2 layers of width 128, 3,000 training and 200 validation listings of at most 48 tokens. */
  public static Builder builder() {
    return new Builder();
  }

  /** Where {@link #prepare} put the model and the data. */
  public record Prepared(Path modelDir, DemoData data) {
    public Prepared {
      Objects.requireNonNull(modelDir, "modelDir");
      Objects.requireNonNull(data, "data");
    }
  }

  /**
   * The demo's data files, and the validation listings with their true prices (for price metrics:
   * generate after each prompt and compare {@link PricerData#parsePrice} with the price).
   *
   * @param trainData prompt-completion JSONL for training
   * @param evalData prompt-completion JSONL for validation
   * @param evalExamples the validation listings, in file order
   */
  public record DemoData(Path trainData, Path evalData, List<PricedExample> evalExamples) {
    public DemoData {
      Objects.requireNonNull(trainData, "trainData");
      Objects.requireNonNull(evalData, "evalData");
      evalExamples = List.copyOf(evalExamples);
    }
  }

  /** Writes the model into {@code dir}/model and the data into {@code dir}/data. */
  public Prepared prepare(Path dir) throws IOException {
    Path model = writeModel(dir.resolve("model"));
    try (PretrainedTokenizer tokenizer = PretrainedTokenizer.load(model)) {
      return new Prepared(model, writeData(dir.resolve("data"), tokenizer));
    }
  }

  /**
   * Writes a Hugging Face Llama directory into {@code dir} (created if needed): {@code config.json},
   * {@code model.safetensors} with the seeded random weights of {@link #modelConfig}, {@code
   * tokenizer.json} and {@code tokenizer_config.json}. The same settings write the same bytes.
   *
   * @return {@code dir}
   */
  public Path writeModel(Path dir) throws IOException {
    Files.createDirectories(dir);
    WordTokenizer tokenizer = tokenizer();
    tokenizer.write(dir);
    ModelConfig config = modelConfig(tokenizer.vocabSize());
    Files.writeString(dir.resolve(ModelConfig.CONFIG_FILE), configJson(config), StandardCharsets.UTF_8);
    writeWeights(config, dir.resolve("model.safetensors"));
    return dir;
  }

  /**
   * Curates the synthetic listings with {@code tokenizer} (the model's: texts are cut to the
   * demo's token budget) and writes {@code train.jsonl} and {@code eval.jsonl} into {@code dir}.
   */
  public DemoData writeData(Path dir, Tokenizer tokenizer) throws IOException {
    Files.createDirectories(dir);
    List<PricerItem> items = SyntheticPricer.builder().seed(seed).build().generate(trainExamples + evalExamples);
    List<PricedExample> curated =
        PricerData.builder(tokenizer).maxContentTokens(maxContentTokens).maxSequenceLength(maxSequenceLength()).build().curate(items).examples();
    if (curated.size() < trainExamples + evalExamples) {
      // Synthetic listings are long and priced in range, so curation keeps every one; say so if not.
      throw new IllegalStateException("pricer curation kept " + curated.size() + " of " + items.size() + " synthetic listings");
    }
    Path train = writeJsonl(dir.resolve("train.jsonl"), curated.subList(0, trainExamples));
    List<PricedExample> eval = curated.subList(trainExamples, trainExamples + evalExamples);
    return new DemoData(train, writeJsonl(dir.resolve("eval.jsonl"), eval), eval);
  }

  /**
   * The preset's training settings, on the CPU, without paths: LoRA on every linear module of the
   * frozen random base at a learning rate a tiny model takes, validation every 100 steps and a
   * checkpoint at the end. 500 steps of 16 listings take about 22 s on one core and bring the
   * training loss from 8.9 (step 10) to 0.83, the validation loss to 0.83; 1,000 steps do no better
   * (0.85 at a learning rate of 3e-3).
   */
  public Trainer.Builder trainer() {
    return Trainer.builder()
        .device(Device.cpu())
        .loraR(16).loraAlpha(32).loraDropout(0.0).targetModules("all-linear")
        .maxSteps(500).batchSize(16).gradientAccumulationSteps(1)
        .learningRate(5e-3).schedule("cosine").warmupRatio(0.05).optimizer("adamw_torch")
        .maxSequenceLength(maxSequenceLength())
        .logEvery(10).evalEvery(100).saveEvery(500).saveTotalLimit(1)
        .project(NAME).seed(seed);
  }

  /**
   * The course's seed workload, for the pricer data on a real model (its Llama 3.1 8B, or any base
   * given with {@code --model}): LoRA r=32, alpha 64, dropout 0.1 on q/k/v/o, one epoch of batches
   * of 16, learning rate 1e-4 with a cosine schedule and 3% warmup, paged AdamW 32-bit, sequences of
   * at most 182 tokens, metrics every 50 steps and a checkpoint every 2,000, runs named {@code
   * pricer-<time>}. The device is left to choose (the GPU when one works). No evaluation during
   * training, as the course; give {@code evalEvery} with validation data for it.
   */
  public static Trainer.Builder courseTrainer() {
    return Trainer.builder()
        .loraR(32).loraAlpha(64).loraDropout(0.1).targetModules("q_proj", "k_proj", "v_proj", "o_proj")
        .epochs(1).batchSize(16).gradientAccumulationSteps(1)
        .learningRate(1e-4).schedule("cosine").warmupRatio(0.03).optimizer("paged_adamw_32bit")
        .maxSequenceLength(COURSE_CONTENT_TOKENS + 3)
        .logEvery(50).saveEvery(2000)
        .project("pricer");
  }

  /** {@link #trainer()} with the prepared model and data. */
  public Trainer.Builder trainer(Prepared prepared) {
    return trainer().baseModel(prepared.modelDir()).trainData(prepared.data().trainData()).evalData(prepared.data().evalData());
  }

  /** The tiny model's shape for a vocabulary of {@code vocabSize} tokens. */
  public ModelConfig modelConfig(int vocabSize) {
    return ModelConfig.builder(ModelType.LLAMA)
        .vocabSize(vocabSize).hiddenSize(hiddenSize).intermediateSize(intermediateSize).numHiddenLayers(numHiddenLayers)
        .numAttentionHeads(numAttentionHeads).numKeyValueHeads(numKeyValueHeads).rmsNormEps(1e-5).ropeTheta(10_000)
        .maxPositionEmbeddings(Math.max(256, maxSequenceLength())).tieWordEmbeddings(false).torchDtype(DType.F32)
        .bosTokenId(java.util.OptionalInt.of(1)).eosTokenIds(List.of(2))
        .build();
  }

  /** Tokens of a demo example with BOS and EOS: the content budget and the two special tokens. */
  public int maxSequenceLength() {
    return maxContentTokens + 2;
  }

  /** The demo's tokenizer: every piece of the prompts and completions of the vocabulary listings. */
  static WordTokenizer tokenizer() {
    return Vocabulary.TOKENIZER;
  }

  /** Made once, when first used: it depends on nothing but SyntheticPricer. */
  private static final class Vocabulary {
    static final WordTokenizer TOKENIZER = read();
  }

  private static WordTokenizer read() {
    List<PricerItem> items = SyntheticPricer.builder().seed(VOCABULARY_SEED).build().generate(VOCABULARY_ITEMS);
    // Counting needs no vocabulary, and a budget no listing reaches keeps every text whole.
    WordTokenizer counting = WordTokenizer.of(List.of());
    List<String> texts = new ArrayList<>();
    for (PricedExample e : PricerData.builder(counting).maxContentTokens(100_000).maxSequenceLength(100_000).build().curate(items).examples()) {
      texts.add(e.example().prompt());
      texts.add(e.example().completion());
    }
    return WordTokenizer.of(texts);
  }

  private static String configJson(ModelConfig c) {
    JsonObject o = new JsonObject();
    JsonArray architectures = new JsonArray();
    architectures.add("LlamaForCausalLM");
    o.add("architectures", architectures);
    o.addProperty("model_type", "llama");
    o.addProperty("vocab_size", c.vocabSize());
    o.addProperty("hidden_size", c.hiddenSize());
    o.addProperty("intermediate_size", c.intermediateSize());
    o.addProperty("num_hidden_layers", c.numHiddenLayers());
    o.addProperty("num_attention_heads", c.numAttentionHeads());
    o.addProperty("num_key_value_heads", c.numKeyValueHeads());
    o.addProperty("head_dim", c.headDim());
    o.addProperty("hidden_act", "silu");
    o.addProperty("rms_norm_eps", c.rmsNormEps());
    o.addProperty("rope_theta", c.ropeTheta());
    o.addProperty("max_position_embeddings", c.maxPositionEmbeddings());
    o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
    o.addProperty("attention_bias", false);
    o.addProperty("mlp_bias", false);
    o.addProperty("torch_dtype", "float32");
    o.addProperty("bos_token_id", c.bosTokenId().getAsInt());
    o.addProperty("eos_token_id", c.eosTokenIds().getFirst());
    return new GsonBuilder().setPrettyPrinting().create().toJson(o);
  }

  /**
   * Writes the weights {@link LlamaModel#create} loads from {@link RandomWeights}, by recording them
   * as it loads: the file then has exactly the model's keys and shapes.
   */
  private void writeWeights(ModelConfig config, Path file) throws IOException {
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    RandomWeights random = new RandomWeights(seed, initStd);
    WeightSource recording = new WeightSource() {
      @Override
      public boolean contains(String key) {
        return random.contains(key);
      }

      @Override
      public Tensor load(String key, Shape expected, Backend backend, DType dtype) {
        Tensor t = random.load(key, expected, backend, dtype);
        long[] shape = new long[expected.rank()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = expected.dim(i);
        }
        writer.putFloats(key, backend.toFloats(t), DType.F32, shape);
        return t;
      }

      @Override
      public String describe() {
        return random.describe();
      }
    };
    try (Backend cpu = Backends.open(Device.cpu());
        LlamaModel ignored = LlamaModel.create(config, cpu, DType.F32, recording)) {
      writer.write(file);
    }
  }

  private static Path writeJsonl(Path file, List<PricedExample> examples) throws IOException {
    var gson = new GsonBuilder().disableHtmlEscaping().create();
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (PricedExample e : examples) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt", e.example().prompt());
        o.addProperty("completion", e.example().completion());
        w.write(gson.toJson(o));
        w.write('\n');
      }
    }
    return file;
  }

  /** The demo's settings; each setter checks its argument and names it when it is wrong. */
  public static final class Builder {
    private long seed = 42;
    private int trainExamples = 3_000;
    private int evalExamples = 200;
    private int maxContentTokens = 48;
    private int numHiddenLayers = 2;
    private int hiddenSize = 128;
    private int numAttentionHeads = 4;
    private int numKeyValueHeads = 2;
    private int intermediateSize = 256;
    private double initStd = 0.3;

    private Builder() {}

    /** Seeds the listings, the model's weights and the training run (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Listings to train on (default 3,000: with fewer, the model learns the prices less well). */
    public Builder trainExamples(int n) {
      this.trainExamples = positive("trainExamples", n);
      return this;
    }

    /** Listings to validate on (default 200). */
    public Builder evalExamples(int n) {
      this.evalExamples = positive("evalExamples", n);
      return this;
    }

    /**
     * The most tokens of prompt plus completion (default 48; the course: 179). The title, which
     * names the brand, size, material and product that set the price, comes first and is kept;
     * the rest is mostly noise, and a tiny model learns the prices better without it (validation
     * loss 0.85 at 48 tokens, 0.92 at 64).
     */
    public Builder maxContentTokens(int n) {
      this.maxContentTokens = positive("maxContentTokens", n);
      return this;
    }

    /** Decoder layers (default 2). */
    public Builder numHiddenLayers(int n) {
      this.numHiddenLayers = positive("numHiddenLayers", n);
      return this;
    }

    /** Width of the residual stream (default 128). */
    public Builder hiddenSize(int n) {
      this.hiddenSize = positive("hiddenSize", n);
      return this;
    }

    /** Query heads (default 4) and key/value heads (default 2). */
    public Builder heads(int attention, int keyValue) {
      this.numAttentionHeads = positive("numAttentionHeads", attention);
      this.numKeyValueHeads = positive("numKeyValueHeads", keyValue);
      return this;
    }

    /** Width of the MLP (default 256). */
    public Builder intermediateSize(int n) {
      this.intermediateSize = positive("intermediateSize", n);
      return this;
    }

    /**
     * Standard deviation of the random weights (default 0.3). Far above transformers' 0.02 on
     * purpose: after the final RMSNorm a token's logit is at most its lm_head row's length times
     * sqrt(hiddenSize), so with short rows no adapter can make one token likely. Measured on the
     * default shape after 300-400 steps, validation loss: 1.29 at 0.088 (1 / sqrt(128)), 0.85 at
     * 0.3, 0.89 at 0.5, 1.14 at 1.0.
     */
    public Builder initStd(double std) {
      if (!(std > 0) || Double.isInfinite(std)) {
        throw new IllegalArgumentException("initStd must be positive and finite: " + std);
      }
      this.initStd = std;
      return this;
    }

    /** The demo; the model's shape is checked here, naming the field at fault. */
    public PricerDemo build() {
      PricerDemo demo = new PricerDemo(this);
      demo.modelConfig(WordTokenizer.of(List.of()).vocabSize());
      return demo;
    }

    private static int positive(String name, int n) {
      if (n <= 0) {
        throw new IllegalArgumentException(name + " must be positive: " + n);
      }
      return n;
    }
  }
}
