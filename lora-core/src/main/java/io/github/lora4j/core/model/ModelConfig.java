package io.github.lora4j.core.model;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

/**
 * The shape and hyperparameters of a Llama-family model, as its Hugging Face {@code config.json}
 * gives them. Load one with {@link #load}, take a bundled one with {@link #bundled}, or build one
 * with {@link #builder}.
 *
 * <pre>{@code
 * ModelConfig llama = ModelConfig.load(Path.of("Meta-Llama-3.1-8B"));
 * llama.headDim();                  // 128
 * llama.ropeInverseFrequencies();   // 64 floats, equal to transformers' inv_freq
 * }</pre>
 *
 * @param modelType the family ({@code model_type})
 * @param vocabSize tokens in the vocabulary ({@code vocab_size})
 * @param hiddenSize width of the residual stream ({@code hidden_size})
 * @param intermediateSize width of the MLP ({@code intermediate_size})
 * @param numHiddenLayers decoder layers ({@code num_hidden_layers})
 * @param numAttentionHeads query heads ({@code num_attention_heads})
 * @param numKeyValueHeads key/value heads, fewer than query heads under grouped-query attention
 *     ({@code num_key_value_heads}, default: the query heads)
 * @param headDim width of one head ({@code head_dim}, default: hiddenSize / numAttentionHeads)
 * @param rmsNormEps epsilon of every RMSNorm ({@code rms_norm_eps})
 * @param ropeTheta base of the rotary frequencies ({@code rope_theta}, in transformers 5 inside
 *     {@code rope_parameters})
 * @param ropeScaling how rotary embeddings are stretched ({@code rope_scaling}, in transformers 5
 *     {@code rope_parameters})
 * @param maxPositionEmbeddings the longest sequence the model was made for
 * @param tieWordEmbeddings whether lm_head reuses the embedding matrix
 * @param qkvBias whether q_proj, k_proj and v_proj have biases (llama: {@code attention_bias};
 *     qwen2: always)
 * @param oBias whether o_proj has a bias (llama: {@code attention_bias}; qwen2, mistral: never)
 * @param mlpBias whether gate_proj, up_proj and down_proj have biases (llama: {@code mlp_bias})
 * @param torchDtype the dtype the weights were saved in ({@code dtype}, before transformers 5
 *     {@code torch_dtype}); F32 when the file names none
 * @param bosTokenId the beginning-of-sequence token, if the config names one
 * @param eosTokenIds the end-of-sequence tokens (one or several), empty if the config names none
 * @param slidingWindow mistral's attention window, if it has one
 */
public record ModelConfig(
    ModelType modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean oBias,
    boolean mlpBias,
    DType torchDtype,
    OptionalInt bosTokenId,
    List<Integer> eosTokenIds,
    OptionalInt slidingWindow) {

  /** The file a model directory keeps its config in. */
  public static final String CONFIG_FILE = "config.json";

  /** transformers' {@code default_theta}, used when a config names no rope_theta. */
  public static final double DEFAULT_ROPE_THETA = 10_000.0;

  /** The configs shipped in this jar, for building random models of real shapes. */
  public static final List<String> BUNDLED = List.of("llama-3.1-8b", "llama-3.2-1b");

  /** config.json's key for each field, so that errors read in the file's own words. */
  private static final Map<String, String> JSON_KEYS = Map.ofEntries(
      Map.entry("vocabSize", "vocab_size"),
      Map.entry("hiddenSize", "hidden_size"),
      Map.entry("intermediateSize", "intermediate_size"),
      Map.entry("numHiddenLayers", "num_hidden_layers"),
      Map.entry("numAttentionHeads", "num_attention_heads"),
      Map.entry("numKeyValueHeads", "num_key_value_heads"),
      Map.entry("headDim", "head_dim"),
      Map.entry("rmsNormEps", "rms_norm_eps"),
      Map.entry("ropeTheta", "rope_theta"),
      Map.entry("maxPositionEmbeddings", "max_position_embeddings"),
      Map.entry("torchDtype", "dtype"),
      Map.entry("slidingWindow", "sliding_window"));

  /** Checks every component as the builder does; prefer {@link #builder}. */
  public ModelConfig {
    Objects.requireNonNull(modelType, "modelType");
    Objects.requireNonNull(ropeScaling, "ropeScaling");
    Objects.requireNonNull(torchDtype, "torchDtype");
    Objects.requireNonNull(bosTokenId, "bosTokenId");
    Objects.requireNonNull(slidingWindow, "slidingWindow");
    eosTokenIds = List.copyOf(eosTokenIds);
    UnaryOperator<String> same = UnaryOperator.identity();
    positive(same, "vocabSize", vocabSize);
    positive(same, "hiddenSize", hiddenSize);
    positive(same, "intermediateSize", intermediateSize);
    positive(same, "numHiddenLayers", numHiddenLayers);
    positive(same, "numAttentionHeads", numAttentionHeads);
    positive(same, "numKeyValueHeads", numKeyValueHeads);
    positive(same, "headDim", headDim);
    positive(same, "maxPositionEmbeddings", maxPositionEmbeddings);
    positiveNumber(same, "rmsNormEps", rmsNormEps);
    positiveNumber(same, "ropeTheta", ropeTheta);
    floatingPoint(same, torchDtype);
    slidingWindow.ifPresent(w -> positive(same, "slidingWindow", w));
    checkHeads(same, numAttentionHeads, numKeyValueHeads, headDim);
  }

  /** Width of all query heads together: q_proj's output, o_proj's input. */
  public int queryDim() {
    return numAttentionHeads * headDim;
  }

  /** Width of all key (or value) heads together: k_proj's and v_proj's output. */
  public int keyValueDim() {
    return numKeyValueHeads * headDim;
  }

  /** Query heads per key/value head. */
  public int numKeyValueGroups() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /**
   * The rotary inverse frequencies, {@code headDim / 2} floats, equal in every bit to
   * transformers' {@code inv_freq} computed on CPU (see {@link RopeScaling}).
   */
  public float[] ropeInverseFrequencies() {
    return ropeScaling.inverseFrequencies(headDim, ropeTheta);
  }

  /**
   * The number of parameters of the base model, counted as torch counts them: a tied lm_head
   * shares the embedding's. Llama 3.1 8B has 8,030,261,248.
   */
  public long parameterCount() {
    long h = hiddenSize;
    long attention = h * queryDim() + 2 * h * keyValueDim() + (long) queryDim() * h
        + (qkvBias ? queryDim() + 2L * keyValueDim() : 0) + (oBias ? h : 0);
    long mlp = 3 * h * intermediateSize + (mlpBias ? 2L * intermediateSize + h : 0);
    long norms = 2 * h;
    long embedding = (long) vocabSize * h;
    return embedding + numHiddenLayers * (attention + mlp + norms) + h + (tieWordEmbeddings ? 0 : embedding);
  }

  // ---- loading ----

  /**
   * Reads a Hugging Face config.json: {@code path} is the file or the model directory holding it.
   * Both generations are read: {@code rope_theta} + {@code rope_scaling} + {@code torch_dtype} as
   * published checkpoints have them, and {@code rope_parameters} + {@code dtype} as transformers 5
   * writes them. Absent keys take transformers' defaults for the model type, except the sizes
   * (vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads), which a
   * real checkpoint always states and which are required.
   *
   * @throws InvalidConfigException naming the file and the key: unsupported model_type, missing
   *     or mistyped key, a size not positive, heads not dividing, unsupported rope type or
   *     activation
   * @throws IOException when the file cannot be read
   */
  public static ModelConfig load(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve(CONFIG_FILE) : path;
    if (!Files.isRegularFile(file)) {
      throw new InvalidConfigException(path.toString(), null, Files.isDirectory(path)
          ? "the directory holds no " + CONFIG_FILE : "no such file");
    }
    return parse(JsonConfigFile.read(file));
  }

  /**
   * One of the configs shipped in this jar ({@link #BUNDLED}): {@code "llama-3.1-8b"} or {@code
   * "llama-3.2-1b"}, as published with those models.
   */
  public static ModelConfig bundled(String name) {
    String resource = "configs/" + name + ".json";
    try (InputStream in = ModelConfig.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no bundled config '" + name + "'; bundled: " + BUNDLED);
      }
      return parse(JsonConfigFile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource));
    } catch (IOException e) {
      throw new IllegalStateException("bundled config " + resource + " is unreadable", e);
    }
  }

  /** Interprets a parsed config.json. */
  public static ModelConfig parse(JsonConfigFile c) throws InvalidConfigException {
    String modelType = c.string("model_type");
    ModelType type = ModelType.fromHfName(modelType).orElseThrow(() -> c.error("model_type",
        "'" + modelType + "' is not supported; lora4j supports " + ModelType.hfNames()));
    String act = c.optionalString("hidden_act").orElse("silu");
    if (!act.equals("silu")) {
      throw c.error("hidden_act", "'" + act + "' is not supported; lora4j's MLP is SwiGLU, which needs 'silu'");
    }
    if (c.has("partial_rotary_factor") && c.number("partial_rotary_factor") != 1.0) {
      throw c.error("partial_rotary_factor", "rotary embeddings over part of a head are not supported");
    }
    Builder b = builder(type);
    b.label = field -> JSON_KEYS.getOrDefault(field, field);
    try {
      b.vocabSize(c.integer("vocab_size"))
          .hiddenSize(c.integer("hidden_size"))
          .intermediateSize(c.integer("intermediate_size"))
          .numHiddenLayers(c.integer("num_hidden_layers"))
          .numAttentionHeads(c.integer("num_attention_heads"));
      OptionalInt kv = c.optionalInteger("num_key_value_heads");
      if (kv.isPresent()) {
        b.numKeyValueHeads(kv.getAsInt());
      }
      OptionalInt headDim = c.optionalInteger("head_dim");
      if (headDim.isPresent()) {
        b.headDim(headDim.getAsInt());
      }
      OptionalDouble eps = c.optionalNumber("rms_norm_eps");
      if (eps.isPresent()) {
        b.rmsNormEps(eps.getAsDouble());
      }
      OptionalInt maxPositions = c.optionalInteger("max_position_embeddings");
      if (maxPositions.isPresent()) {
        b.maxPositionEmbeddings(maxPositions.getAsInt());
      }
      b.tieWordEmbeddings(c.bool("tie_word_embeddings", b.tieWordEmbeddings));
      // Only Llama's modules read attention_bias and mlp_bias; Qwen2 and Mistral hard-code theirs.
      if (type == ModelType.LLAMA) {
        boolean attentionBias = c.bool("attention_bias", false);
        b.qkvBias(attentionBias).oBias(attentionBias).mlpBias(c.bool("mlp_bias", false));
      }
      dtype(c, b);
      // A key that is present overrides the default, also when it is null.
      if (c.keys().contains("bos_token_id")) {
        b.bosTokenId(c.optionalInteger("bos_token_id"));
      }
      if (c.keys().contains("eos_token_id")) {
        b.eosTokenIds(c.integerOrList("eos_token_id"));
      }
      slidingWindow(c, type, b);
      rope(c, b);
      return b.build();
    } catch (Builder.FieldException e) {
      throw c.error(e.key, e.getMessage());
    }
  }

  private static void dtype(JsonConfigFile c, Builder b) throws InvalidConfigException {
    String key = c.has("dtype") ? "dtype" : "torch_dtype";
    Optional<String> name = c.optionalString(key);
    if (name.isPresent()) {
      try {
        b.torchDtype(DType.fromTorchName(name.get()));
      } catch (IllegalArgumentException e) {
        throw c.error(key, "'" + name.get() + "' is not a dtype lora4j reads; use float32, bfloat16 or float16");
      }
    }
  }

  private static void slidingWindow(JsonConfigFile c, ModelType type, Builder b) throws InvalidConfigException {
    if (type == ModelType.MISTRAL) {
      if (c.keys().contains("sliding_window")) {
        b.slidingWindow(c.optionalInteger("sliding_window"));
      }
    } else if (type == ModelType.QWEN2 && c.bool("use_sliding_window", false)) {
      throw c.error("use_sliding_window", "Qwen2's sliding-window attention (on layers from max_window_layers on) "
          + "is not supported");
    }
  }

  /**
   * transformers 5 ({@code RotaryEmbeddingConfigMixin}) takes {@code rope_scaling} if it is a
   * non-empty dict, else {@code rope_parameters}; rope_theta inside the dict wins over the
   * top-level one; {@code rope_type} wins over the older {@code type}; llama3's
   * original_max_position_embeddings defaults to max_position_embeddings.
   */
  private static void rope(JsonConfigFile c, Builder b) throws InvalidConfigException {
    Optional<JsonConfigFile> scaling = c.object("rope_scaling");
    JsonConfigFile rope = scaling.filter(s -> !s.keys().isEmpty()).orElse(c.object("rope_parameters").orElse(null));
    if (rope != null && rope.has("rope_theta")) {
      b.ropeTheta(rope.number("rope_theta"));
    } else if (c.has("rope_theta")) {
      b.ropeTheta(c.number("rope_theta"));
    }
    if (rope == null) {
      return;
    }
    String typeKey = rope.has("rope_type") ? "rope_type" : "type";
    String ropeType = rope.optionalString(typeKey).orElse("default");
    try {
      b.ropeScaling(switch (ropeType) {
        case "default" -> new RopeScaling.Default();
        case "linear" -> new RopeScaling.Linear(rope.number("factor"));
        case "llama3" -> new RopeScaling.Llama3(rope.number("factor"), rope.number("low_freq_factor"),
            rope.number("high_freq_factor"),
            rope.optionalInteger("original_max_position_embeddings").orElse(b.maxPositionEmbeddings));
        default -> throw rope.error(typeKey, "rope type '" + ropeType + "' is not supported; lora4j supports "
            + "default, linear, llama3");
      });
    } catch (IllegalArgumentException e) {
      throw rope.error(null, e.getMessage());
    }
  }

  // ---- building ----

  /**
   * A builder holding transformers' defaults for {@code type}; the sizes (vocabSize, hiddenSize,
   * intermediateSize, numHiddenLayers, numAttentionHeads) must be set.
   */
  public static Builder builder(ModelType type) {
    return new Builder(type);
  }

  /** A builder starting from this config's values. */
  public Builder toBuilder() {
    Builder b = new Builder(modelType);
    b.vocabSize = vocabSize;
    b.hiddenSize = hiddenSize;
    b.intermediateSize = intermediateSize;
    b.numHiddenLayers = numHiddenLayers;
    b.numAttentionHeads = numAttentionHeads;
    b.numKeyValueHeads = numKeyValueHeads;
    b.headDim = headDim;
    b.rmsNormEps = rmsNormEps;
    b.ropeTheta = ropeTheta;
    b.ropeScaling = ropeScaling;
    b.maxPositionEmbeddings = maxPositionEmbeddings;
    b.tieWordEmbeddings = tieWordEmbeddings;
    b.qkvBias = qkvBias;
    b.oBias = oBias;
    b.mlpBias = mlpBias;
    b.torchDtype = torchDtype;
    b.bosTokenId = bosTokenId;
    b.eosTokenIds = eosTokenIds;
    b.slidingWindow = slidingWindow;
    return b;
  }

  /** Builds a {@link ModelConfig}; each setter checks its argument, {@link #build} the rest. */
  public static final class Builder {

    /** A bad value; {@code key} is the label of the field at fault. */
    static final class FieldException extends IllegalArgumentException {
      final String key;

      FieldException(String key, String message) {
        super(message);
        this.key = key;
      }
    }

    private final ModelType modelType;
    private UnaryOperator<String> label = UnaryOperator.identity();
    private Integer vocabSize;
    private Integer hiddenSize;
    private Integer intermediateSize;
    private Integer numHiddenLayers;
    private Integer numAttentionHeads;
    private Integer numKeyValueHeads;
    private Integer headDim;
    private double rmsNormEps = 1e-6;
    private double ropeTheta = DEFAULT_ROPE_THETA;
    private RopeScaling ropeScaling = new RopeScaling.Default();
    private int maxPositionEmbeddings;
    private boolean tieWordEmbeddings;
    private boolean qkvBias;
    private boolean oBias;
    private boolean mlpBias;
    private DType torchDtype = DType.F32;
    private OptionalInt bosTokenId;
    private List<Integer> eosTokenIds;
    private OptionalInt slidingWindow = OptionalInt.empty();

    /** transformers 5.17's defaults for each type (the values of its config classes). */
    private Builder(ModelType modelType) {
      this.modelType = Objects.requireNonNull(modelType, "modelType");
      switch (modelType) {
        case LLAMA -> {
          maxPositionEmbeddings = 2048;
          bosTokenId = OptionalInt.of(1);
          eosTokenIds = List.of(2);
        }
        case MISTRAL -> {
          maxPositionEmbeddings = 131072;
          bosTokenId = OptionalInt.of(1);
          eosTokenIds = List.of(2);
          numKeyValueHeads = 8;
          slidingWindow = OptionalInt.of(4096);
        }
        case QWEN2 -> {
          maxPositionEmbeddings = 32768;
          bosTokenId = OptionalInt.empty();
          eosTokenIds = List.of();
          qkvBias = true;
        }
      }
    }

    /** Tokens in the vocabulary, > 0 (required). */
    public Builder vocabSize(int v) {
      vocabSize = positive(label, "vocabSize", v);
      return this;
    }

    /** Width of the residual stream, > 0 (required). */
    public Builder hiddenSize(int v) {
      hiddenSize = positive(label, "hiddenSize", v);
      return this;
    }

    /** Width of the MLP, > 0 (required). */
    public Builder intermediateSize(int v) {
      intermediateSize = positive(label, "intermediateSize", v);
      return this;
    }

    /** Decoder layers, > 0 (required). */
    public Builder numHiddenLayers(int v) {
      numHiddenLayers = positive(label, "numHiddenLayers", v);
      return this;
    }

    /** Query heads, > 0 (required). */
    public Builder numAttentionHeads(int v) {
      numAttentionHeads = positive(label, "numAttentionHeads", v);
      return this;
    }

    /** Defaults to numAttentionHeads (multi-head attention). */
    public Builder numKeyValueHeads(int v) {
      numKeyValueHeads = positive(label, "numKeyValueHeads", v);
      return this;
    }

    /** Defaults to hiddenSize / numAttentionHeads. */
    public Builder headDim(int v) {
      headDim = positive(label, "headDim", v);
      return this;
    }

    /** RMSNorm epsilon, > 0 (default 1e-6). */
    public Builder rmsNormEps(double v) {
      rmsNormEps = positiveNumber(label, "rmsNormEps", v);
      return this;
    }

    /** Rotary base, > 0 (default 10000). */
    public Builder ropeTheta(double v) {
      ropeTheta = positiveNumber(label, "ropeTheta", v);
      return this;
    }

    /** Rotary scaling (default: none). */
    public Builder ropeScaling(RopeScaling v) {
      ropeScaling = Objects.requireNonNull(v, "ropeScaling");
      return this;
    }

    /** The longest sequence, > 0 (default: the type's). */
    public Builder maxPositionEmbeddings(int v) {
      maxPositionEmbeddings = positive(label, "maxPositionEmbeddings", v);
      return this;
    }

    /** Whether lm_head shares the embedding matrix (default false). */
    public Builder tieWordEmbeddings(boolean v) {
      tieWordEmbeddings = v;
      return this;
    }

    /** Biases on q_proj, k_proj, v_proj (default: true for qwen2 only). */
    public Builder qkvBias(boolean v) {
      qkvBias = v;
      return this;
    }

    /** A bias on o_proj (default false). */
    public Builder oBias(boolean v) {
      oBias = v;
      return this;
    }

    /** Biases on gate_proj, up_proj, down_proj (default false). */
    public Builder mlpBias(boolean v) {
      mlpBias = v;
      return this;
    }

    /** Must be F32, BF16 or F16. */
    public Builder torchDtype(DType v) {
      torchDtype = floatingPoint(label, Objects.requireNonNull(v, "torchDtype"));
      return this;
    }

    /** The beginning-of-sequence token, if any. */
    public Builder bosTokenId(OptionalInt v) {
      bosTokenId = Objects.requireNonNull(v, "bosTokenId");
      return this;
    }

    /** The end-of-sequence tokens, possibly none. */
    public Builder eosTokenIds(List<Integer> v) {
      eosTokenIds = List.copyOf(v);
      return this;
    }

    /** Mistral's attention window, if any (default for mistral: 4096). */
    public Builder slidingWindow(OptionalInt v) {
      v.ifPresent(w -> positive(label, "slidingWindow", w));
      slidingWindow = v;
      return this;
    }

    /**
     * The config.
     *
     * @throws IllegalArgumentException naming the field: a size not set, hiddenSize not divisible
     *     by numAttentionHeads when headDim is not set, numAttentionHeads not divisible by
     *     numKeyValueHeads, an odd headDim
     */
    public ModelConfig build() {
      required("vocabSize", vocabSize);
      required("hiddenSize", hiddenSize);
      required("intermediateSize", intermediateSize);
      required("numHiddenLayers", numHiddenLayers);
      required("numAttentionHeads", numAttentionHeads);
      int kv = numKeyValueHeads != null ? numKeyValueHeads : numAttentionHeads;
      int head;
      if (headDim != null) {
        head = headDim;
      } else {
        if (hiddenSize % numAttentionHeads != 0) {
          throw new FieldException(label.apply("numAttentionHeads"), label.apply("hiddenSize") + " " + hiddenSize
              + " is not divisible by " + label.apply("numAttentionHeads") + " " + numAttentionHeads + " (and "
              + label.apply("headDim") + " is not given)");
        }
        head = hiddenSize / numAttentionHeads;
      }
      checkHeads(label, numAttentionHeads, kv, head);
      return new ModelConfig(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
          kv, head, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings, qkvBias, oBias,
          mlpBias, torchDtype, bosTokenId, eosTokenIds, slidingWindow);
    }

    private void required(String field, Integer value) {
      if (value == null) {
        throw new FieldException(label.apply(field), label.apply(field) + " must be set");
      }
    }
  }

  private static int positive(UnaryOperator<String> label, String field, int v) {
    if (v <= 0) {
      throw new Builder.FieldException(label.apply(field), label.apply(field) + " must be > 0: " + v);
    }
    return v;
  }

  private static double positiveNumber(UnaryOperator<String> label, String field, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new Builder.FieldException(label.apply(field), label.apply(field) + " must be a positive number: " + v);
    }
    return v;
  }

  private static DType floatingPoint(UnaryOperator<String> label, DType v) {
    if (!v.isFloatingPoint()) {
      throw new Builder.FieldException(label.apply("torchDtype"), label.apply("torchDtype")
          + " must be a floating-point dtype: " + v);
    }
    return v;
  }

  private static void checkHeads(UnaryOperator<String> label, int heads, int kvHeads, int headDim) {
    if (heads % kvHeads != 0) {
      throw new Builder.FieldException(label.apply("numKeyValueHeads"), label.apply("numAttentionHeads") + " "
          + heads + " is not divisible by " + label.apply("numKeyValueHeads") + " " + kvHeads);
    }
    // Rotary embeddings rotate pairs of dimensions.
    if (headDim % 2 != 0) {
      throw new Builder.FieldException(label.apply("headDim"), label.apply("headDim") + " must be even for rotary "
          + "embeddings: " + headDim);
    }
  }
}
