package io.github.lora4j.core.lora;

import io.github.lora4j.tensor.TempSiblings;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.github.lora4j.core.model.InvalidConfigException;
import io.github.lora4j.core.model.JsonConfigFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A LoRA adapter's hyperparameters, in PEFT's terms. Build one with {@link #builder()}, which
 * starts from PEFT's defaults (r 8, lora_alpha 8, no dropout, q_proj and v_proj as PEFT picks for
 * Llama, Mistral and Qwen2), or read PEFT's {@code adapter_config.json} with {@link
 * #readPeftConfig}.
 *
 * <pre>{@code
 * LoraConfig lora = LoraConfig.builder().r(32).loraAlpha(64)
 *     .targetModules("q_proj", "k_proj", "v_proj", "o_proj").build();
 * lora.scaling(); // 2.0
 * }</pre>
 *
 * @param r the rank of each adapter
 * @param loraAlpha the numerator of the scaling
 * @param loraDropout dropout on the adapter's input while training, in [0, 1)
 * @param targetModules the adapted projections of every adapted layer
 * @param useRslora rank-stabilized scaling: loraAlpha / sqrt(r) instead of loraAlpha / r
 * @param layersToTransform the adapted layer indices, ascending; empty means every layer
 * @param seed the seed of the adapters' random initialization
 */
public record LoraConfig(
    int r,
    double loraAlpha,
    double loraDropout,
    Set<TargetModule> targetModules,
    boolean useRslora,
    List<Integer> layersToTransform,
    long seed) {

  /** The file PEFT keeps an adapter's config in. */
  public static final String ADAPTER_CONFIG_FILE = "adapter_config.json";

  /** The file PEFT keeps an adapter's weights in. */
  public static final String ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";

  /**
   * The PEFT release whose adapter_config.json layout {@link #writePeftConfig} writes (every key
   * its LoraConfig.to_dict() has). PEFT reads the version only to inform.
   */
  public static final String PEFT_VERSION = "0.21.0";

  /** Checks every component as the builder does; prefer {@link #builder}. */
  public LoraConfig {
    checkR(r);
    checkAlpha(loraAlpha);
    checkDropout(loraDropout);
    targetModules = checkTargets(targetModules);
    layersToTransform = checkLayers(layersToTransform);
  }

  /** The factor on the adapter's output: loraAlpha / r, or loraAlpha / sqrt(r) with rsLoRA. */
  public double scaling() {
    return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
  }

  /** Whether decoder layer {@code layer} is adapted. */
  public boolean adaptsLayer(int layer) {
    return layersToTransform.isEmpty() || Collections.binarySearch(layersToTransform, layer) >= 0;
  }

  /** A builder with PEFT's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.r = r;
    b.loraAlpha = loraAlpha;
    b.loraDropout = loraDropout;
    b.targetModules = EnumSet.copyOf(targetModules);
    b.useRslora = useRslora;
    b.layersToTransform = layersToTransform;
    b.seed = seed;
    return b;
  }

  /** Builds a {@link LoraConfig}; each setter checks its argument and names the field when it is wrong. */
  public static final class Builder {
    private int r = 8;
    private double loraAlpha = 8;
    private double loraDropout = 0;
    private Set<TargetModule> targetModules = EnumSet.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);
    private boolean useRslora;
    private List<Integer> layersToTransform = List.of();
    private long seed;

    private Builder() {}

    /** Rank, > 0 (PEFT's default 8). */
    public Builder r(int v) {
      r = checkR(v);
      return this;
    }

    /** Scaling numerator, > 0 (PEFT's default 8). */
    public Builder loraAlpha(double v) {
      loraAlpha = checkAlpha(v);
      return this;
    }

    /** Dropout probability, in [0, 1) (default 0). */
    public Builder loraDropout(double v) {
      loraDropout = checkDropout(v);
      return this;
    }

    /** The adapted projections; not empty. */
    public Builder targetModules(Collection<TargetModule> v) {
      targetModules = checkTargets(v);
      return this;
    }

    /** The adapted projections by PEFT name ("q_proj", ...), or "all-linear" for all seven. */
    public Builder targetModules(String... names) {
      Set<TargetModule> parsed;
      try {
        parsed = TargetModule.parse(List.of(names));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("targetModules: " + e.getMessage(), e);
      }
      return targetModules(parsed);
    }

    /** Rank-stabilized LoRA (default false). */
    public Builder useRslora(boolean v) {
      useRslora = v;
      return this;
    }

    /** Adapt only these layers (indices ≥ 0); empty (the default) adapts every layer. */
    public Builder layersToTransform(Collection<Integer> v) {
      layersToTransform = checkLayers(v);
      return this;
    }

    /** Seed of the random initialization (default 0). */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** The config; every argument was checked when it was set. */
    public LoraConfig build() {
      return new LoraConfig(r, loraAlpha, loraDropout, targetModules, useRslora, layersToTransform, seed);
    }
  }

  private static int checkR(int r) {
    if (r <= 0) {
      throw new IllegalArgumentException("r must be > 0: " + r);
    }
    return r;
  }

  private static double checkAlpha(double alpha) {
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException("loraAlpha must be > 0: " + alpha);
    }
    return alpha;
  }

  private static double checkDropout(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("loraDropout must be in [0, 1): " + p);
    }
    return p;
  }

  private static Set<TargetModule> checkTargets(Collection<TargetModule> targets) {
    Objects.requireNonNull(targets, "targetModules");
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("targetModules must not be empty; valid: "
          + String.join(", ", TargetModule.peftNames()));
    }
    return Collections.unmodifiableSet(EnumSet.copyOf(targets));
  }

  private static List<Integer> checkLayers(Collection<Integer> layers) {
    var sorted = new TreeSet<Integer>();
    for (Integer layer : layers) {
      if (layer == null || layer < 0) {
        throw new IllegalArgumentException("layersToTransform must hold layer indices >= 0: " + layers);
      }
      sorted.add(layer);
    }
    return List.copyOf(sorted);
  }

  // ---- PEFT's adapter_config.json ----

  /**
   * Writes {@code dir/adapter_config.json} as PEFT 0.21's {@code save_pretrained} does: every key
   * of its LoraConfig.to_dict(), sorted, indented by two spaces, {@code inference_mode} true, the
   * target modules as a sorted list. Writes to a temporary file first and renames it into place.
   *
   * @param baseModelNameOrPath the base model's hub name or path, or null
   */
  public void writePeftConfig(Path dir, String baseModelNameOrPath) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(ADAPTER_CONFIG_FILE);
    Path tmp = TempSiblings.file(dir, "." + ADAPTER_CONFIG_FILE + ".", ".tmp");
    try {
      Files.writeString(tmp, toPeftJson(baseModelNameOrPath), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The text {@link #writePeftConfig} writes: Python's {@code json.dumps(d, indent=2, sort_keys=True)}. */
  public String toPeftJson(String baseModelNameOrPath) {
    var keys = new TreeMap<String, JsonElement>();
    JsonElement none = JsonNull.INSTANCE;
    keys.put("alora_invocation_tokens", none);
    keys.put("alpha_pattern", new JsonObject());
    keys.put("arrow_config", none);
    keys.put("auto_mapping", none);
    keys.put("base_model_name_or_path", baseModelNameOrPath == null ? none : new JsonPrimitive(baseModelNameOrPath));
    keys.put("bias", new JsonPrimitive("none"));
    keys.put("corda_config", none);
    keys.put("ensure_weight_tying", new JsonPrimitive(false));
    keys.put("eva_config", none);
    keys.put("exclude_modules", none);
    keys.put("fan_in_fan_out", new JsonPrimitive(false));
    // PeftModel.save_pretrained always saves inference_mode true.
    keys.put("inference_mode", new JsonPrimitive(true));
    // B starts at zero, A random: PEFT's default initialization.
    keys.put("init_lora_weights", new JsonPrimitive(true));
    keys.put("kasa_config", none);
    keys.put("layer_replication", none);
    keys.put("layers_pattern", none);
    keys.put("layers_to_transform", layersToTransform.isEmpty() ? none : intArray(layersToTransform));
    keys.put("loftq_config", new JsonObject());
    // lora_alpha is an int in PEFT's dataclass; a fractional one is written as Python writes a float.
    keys.put("lora_alpha", loraAlpha == Math.rint(loraAlpha) && Math.abs(loraAlpha) < 1e15
        ? new JsonPrimitive((long) loraAlpha) : new JsonPrimitive(loraAlpha));
    keys.put("lora_bias", new JsonPrimitive(false));
    keys.put("lora_dropout", new JsonPrimitive(loraDropout));
    keys.put("lora_ga_config", none);
    keys.put("megatron_config", none);
    keys.put("megatron_core", new JsonPrimitive("megatron.core"));
    keys.put("modules_to_save", none);
    keys.put("monteclora_config", none);
    keys.put("peft_type", new JsonPrimitive("LORA"));
    keys.put("peft_version", new JsonPrimitive(PEFT_VERSION));
    keys.put("qalora_group_size", new JsonPrimitive(16));
    keys.put("r", new JsonPrimitive(r));
    keys.put("rank_pattern", new JsonObject());
    keys.put("revision", none);
    var targets = new JsonArray();
    targetModules.stream().map(TargetModule::peftName).sorted().forEach(targets::add);
    keys.put("target_modules", targets);
    keys.put("target_parameters", none);
    keys.put("task_type", new JsonPrimitive("CAUSAL_LM"));
    keys.put("trainable_token_indices", none);
    keys.put("use_bdlora", none);
    keys.put("use_dora", new JsonPrimitive(false));
    keys.put("use_qalora", new JsonPrimitive(false));
    keys.put("use_rslora", new JsonPrimitive(useRslora));
    keys.put("velora_config", none);
    var root = new JsonObject();
    keys.forEach(root::add);
    return new GsonBuilder().serializeNulls().setPrettyPrinting().disableHtmlEscaping().create().toJson(root);
  }

  private static JsonArray intArray(List<Integer> values) {
    var a = new JsonArray();
    values.forEach(a::add);
    return a;
  }

  /**
   * Reads a PEFT {@code adapter_config.json} ({@code path} is the file or the adapter directory).
   * Keys lora4j has no use for are ignored; a config that asks for something lora4j cannot do is
   * refused rather than half-honoured: DoRA, biases, per-module rank or alpha patterns,
   * modules_to_save, and the other PEFT variants.
   *
   * <p>{@code target_modules} may be a list of names, {@code "all-linear"}, or a regular expression
   * that PEFT matches against whole module paths ({@code model.layers.0.self_attn.q_proj}); a
   * regex is accepted when it selects the same layers for every module kind it selects and nothing
   * outside the decoder layers' projections.
   *
   * <p>PEFT's file holds no seed; the config read has seed 0.
   *
   * @throws InvalidConfigException naming the file and the key
   * @throws IOException when the file cannot be read
   */
  public static LoraConfig readPeftConfig(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve(ADAPTER_CONFIG_FILE) : path;
    if (!Files.isRegularFile(file)) {
      throw new InvalidConfigException(path.toString(), null, Files.isDirectory(path)
          ? "the directory holds no " + ADAPTER_CONFIG_FILE : "no such file");
    }
    return fromPeftJson(JsonConfigFile.read(file));
  }

  /** Interprets a parsed adapter_config.json; see {@link #readPeftConfig}. */
  public static LoraConfig fromPeftJson(JsonConfigFile c) throws InvalidConfigException {
    String peftType = c.optionalString("peft_type").orElseThrow(() -> c.error("peft_type", "is missing"));
    if (!peftType.equals("LORA")) {
      throw c.error("peft_type", "'" + peftType + "' is not LoRA; lora4j reads LORA adapters");
    }
    Optional<String> task = c.optionalString("task_type");
    if (task.isPresent() && !task.get().equals("CAUSAL_LM")) {
      throw c.error("task_type", "'" + task.get() + "' is not supported; lora4j trains CAUSAL_LM adapters");
    }
    refuseUnsupported(c);
    Builder b = builder();
    String key = null;
    try {
      if (c.has(key = "r")) {
        b.r(c.integer(key));
      }
      if (c.has(key = "lora_alpha")) {
        b.loraAlpha(c.number(key));
      }
      if (c.has(key = "lora_dropout")) {
        b.loraDropout(c.number(key));
      }
    } catch (IllegalArgumentException e) {
      throw c.error(key, e.getMessage());
    }
    b.useRslora(c.bool("use_rslora", false));
    Layers fromTargets = targets(c, b);
    List<Integer> layers = layersToTransform(c);
    if (fromTargets != null && !fromTargets.all()) {
      layers = fromTargets.layers();
    }
    try {
      b.layersToTransform(layers);
    } catch (IllegalArgumentException e) {
      throw c.error("layers_to_transform", e.getMessage());
    }
    return b.build();
  }

  /** Keys with the value that means "this feature is off"; anything else is refused. */
  private static void refuseUnsupported(JsonConfigFile c) throws InvalidConfigException {
    if (c.bool("use_dora", false)) {
      throw c.error("use_dora", "DoRA is not supported by lora4j");
    }
    String bias = c.optionalString("bias").orElse("none");
    if (!bias.equals("none")) {
      throw c.error("bias", "'" + bias + "' is not supported; lora4j trains no biases (bias must be \"none\")");
    }
    if (c.bool("fan_in_fan_out", false)) {
      throw c.error("fan_in_fan_out", "transposed (Conv1D) weights are not supported");
    }
    for (String key : List.of("use_qalora", "lora_bias", "ensure_weight_tying")) {
      if (c.bool(key, false)) {
        throw c.error(key, "is true; lora4j does not support it");
      }
    }
    for (String key : List.of("rank_pattern", "alpha_pattern")) {
      Optional<JsonConfigFile> pattern = c.object(key);
      if (pattern.isPresent() && !pattern.get().keys().isEmpty()) {
        throw c.error(key, "per-module patterns are not supported; lora4j uses one r and lora_alpha for every module");
      }
    }
    for (String key : List.of("modules_to_save", "exclude_modules", "target_parameters", "trainable_token_indices",
        "layer_replication", "megatron_config", "alora_invocation_tokens", "eva_config", "corda_config",
        "lora_ga_config", "velora_config", "monteclora_config", "kasa_config", "arrow_config", "use_bdlora")) {
      Optional<JsonElement> v = c.get(key);
      boolean empty = v.isEmpty() || v.get().isJsonArray() && v.get().getAsJsonArray().isEmpty();
      if (!empty) {
        throw c.error(key, "is set (" + v.get() + "); lora4j does not support it");
      }
    }
    Optional<JsonElement> init = c.get("init_lora_weights");
    if (init.isPresent() && init.get().isJsonPrimitive() && init.get().getAsJsonPrimitive().isString()) {
      String how = init.get().getAsString();
      // These change the base weights or the adapter's forward, not only the starting point.
      if (how.startsWith("pissa") || List.of("olora", "corda", "loftq", "mica", "lora_ga").contains(how)) {
        throw c.error("init_lora_weights", "'" + how + "' is not supported; it changes the base model or the "
            + "adapter's forward");
      }
    }
    Optional<JsonElement> pattern = c.get("layers_pattern");
    if (pattern.isPresent()) {
      JsonElement p = pattern.get();
      boolean layers = p.isJsonPrimitive() && p.getAsString().equals("layers")
          || p.isJsonArray() && p.getAsJsonArray().size() == 1 && p.getAsJsonArray().get(0).getAsString().equals("layers");
      if (!layers) {
        throw c.error("layers_pattern", p + " is not supported; Llama-family layers are under \"layers\"");
      }
    }
  }

  private static List<Integer> layersToTransform(JsonConfigFile c) throws InvalidConfigException {
    return c.integerOrList("layers_to_transform");
  }

  /** Layers a regex target_modules selects: all of them, or these. */
  private record Layers(boolean all, List<Integer> layers) {}

  /** How many layer indices a regex is tried on: more than any Llama-family model has. */
  private static final int PROBED_LAYERS = 1024;

  private static Layers targets(JsonConfigFile c, Builder b) throws InvalidConfigException {
    Optional<JsonElement> t = c.get("target_modules");
    if (t.isEmpty()) {
      return null; // PEFT's default for llama, mistral and qwen2: q_proj, v_proj, the builder's too
    }
    JsonElement v = t.get();
    if (v.isJsonArray()) {
      var names = new ArrayList<String>();
      for (JsonElement e : v.getAsJsonArray()) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
          throw c.error("target_modules", "must hold module names, not " + e);
        }
        names.add(e.getAsString());
      }
      try {
        b.targetModules(TargetModule.parse(names));
      } catch (IllegalArgumentException e) {
        throw c.error("target_modules", e.getMessage());
      }
      return null;
    }
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
      throw c.error("target_modules", "must be a list of module names or a regex string, not " + v);
    }
    String regex = v.getAsString();
    if (regex.equals(TargetModule.ALL_LINEAR)) {
      b.targetModules(EnumSet.allOf(TargetModule.class));
      return null;
    }
    return regexTargets(c, b, regex);
  }

  /** PEFT matches a string target_modules with re.fullmatch against every module path. */
  private static Layers regexTargets(JsonConfigFile c, Builder b, String regex) throws InvalidConfigException {
    Pattern p;
    try {
      p = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw c.error("target_modules", "regex '" + regex + "' does not compile: " + e.getDescription());
    }
    for (String other : List.of("lm_head", "model.embed_tokens", "model.norm", "model.rotary_emb", "model",
        "model.layers.0.input_layernorm", "model.layers.0.post_attention_layernorm", "model.layers.0.self_attn",
        "model.layers.0.mlp", "model.layers.0", "model.layers.0.mlp.act_fn")) {
      if (p.matcher(other).matches()) {
        throw c.error("target_modules", "regex '" + regex + "' also selects " + other
            + "; lora4j adapts only the decoder layers' projections");
      }
    }
    Map<TargetModule, List<Integer>> selected = new TreeMap<>();
    for (TargetModule m : TargetModule.values()) {
      var layers = new ArrayList<Integer>();
      for (int layer = 0; layer < PROBED_LAYERS; layer++) {
        if (p.matcher(m.modulePath(layer)).matches()) {
          layers.add(layer);
        }
      }
      if (!layers.isEmpty()) {
        selected.put(m, layers);
      }
    }
    if (selected.isEmpty()) {
      throw c.error("target_modules", "regex '" + regex + "' selects none of " + String.join(", ",
          TargetModule.peftNames()) + " in any layer (as in model.layers.0.self_attn.q_proj)");
    }
    if (Set.copyOf(selected.values()).size() != 1) {
      throw c.error("target_modules", "regex '" + regex + "' selects different layers for different modules "
          + "(" + selected.keySet() + "); lora4j adapts the same modules in every adapted layer");
    }
    b.targetModules(selected.keySet());
    List<Integer> layers = selected.values().iterator().next();
    return new Layers(layers.size() == PROBED_LAYERS, layers);
  }
}
