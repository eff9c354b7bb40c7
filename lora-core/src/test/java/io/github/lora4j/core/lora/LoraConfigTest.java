package io.github.lora4j.core.lora;

import static io.github.lora4j.core.lora.TargetModule.DOWN_PROJ;
import static io.github.lora4j.core.lora.TargetModule.K_PROJ;
import static io.github.lora4j.core.lora.TargetModule.Q_PROJ;
import static io.github.lora4j.core.lora.TargetModule.V_PROJ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.core.model.InvalidConfigException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.UniqueElements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraConfigTest {

  @TempDir Path dir;

  static Path tinyAdapter() {
    try {
      return Path.of(LoraConfigTest.class.getResource("peft-0.21-tiny").toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static void rejects(String message, Runnable r) {
    var e = assertThrows(IllegalArgumentException.class, r::run);
    assertEquals(message, e.getMessage());
  }

  @Test
  void defaultsArePefts() {
    LoraConfig c = LoraConfig.builder().build();
    assertEquals(8, c.r());
    assertEquals(8.0, c.loraAlpha());
    assertEquals(0.0, c.loraDropout());
    assertEquals(EnumSet.of(Q_PROJ, V_PROJ), c.targetModules());
    assertFalse(c.useRslora());
    assertEquals(List.of(), c.layersToTransform());
    assertEquals(1.0, c.scaling());
  }

  @Test
  void builderChecksEagerlyAndNamesTheField() {
    var b = LoraConfig.builder();
    rejects("r must be > 0: 0", () -> b.r(0));
    rejects("loraAlpha must be > 0: -1.0", () -> b.loraAlpha(-1));
    rejects("loraDropout must be in [0, 1): 1.5", () -> b.loraDropout(1.5));
    rejects("loraDropout must be in [0, 1): 1.0", () -> b.loraDropout(1));
    rejects("targetModules: unknown target module 'qkv_proj'; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, "
        + "up_proj, down_proj, or all-linear", () -> b.targetModules("q_proj", "qkv_proj"));
    rejects("targetModules must not be empty; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj",
        () -> b.targetModules(List.of()));
    rejects("layersToTransform must hold layer indices >= 0: [1, -2]", () -> b.layersToTransform(List.of(1, -2)));
  }

  @Test
  void allLinearIsAllSeven() {
    assertEquals(EnumSet.allOf(TargetModule.class), LoraConfig.builder().targetModules("all-linear").build()
        .targetModules());
  }

  @Test
  void scaling() {
    assertEquals(2.0, LoraConfig.builder().r(32).loraAlpha(64).build().scaling());
    assertEquals(64 / Math.sqrt(32), LoraConfig.builder().r(32).loraAlpha(64).useRslora(true).build().scaling());
  }

  @Property
  void scalingIsAlphaOverROrOverSqrtR(@ForAll @IntRange(min = 1, max = 1024) int r,
      @ForAll @DoubleRange(min = 0.01, max = 1024) double alpha) {
    var b = LoraConfig.builder().r(r).loraAlpha(alpha);
    assertEquals(alpha / r, b.build().scaling(), 1e-12 * alpha);
    assertEquals(alpha, b.useRslora(true).build().scaling() * Math.sqrt(r), 1e-9 * alpha);
  }

  /** The layout and formatting of PEFT 0.21's own file, byte for byte. */
  @Test
  void writesWhatPeftWrites() throws IOException {
    String peft = Files.readString(tinyAdapter().resolve("adapter_config.json"));
    // That adapter was made with init_lora_weights=False, and PEFT lists target_modules from a set.
    String expected = peft.replace("\"init_lora_weights\": false", "\"init_lora_weights\": true")
        .replace("\"v_proj\",\n    \"down_proj\",\n    \"q_proj\"", "\"down_proj\",\n    \"q_proj\",\n    \"v_proj\"");
    LoraConfig c = LoraConfig.builder().r(4).loraAlpha(8).targetModules("q_proj", "v_proj", "down_proj").build();
    c.writePeftConfig(dir, null);
    assertEquals(expected, Files.readString(dir.resolve("adapter_config.json")));
  }

  @Test
  void writesEveryKeyWithPeftsJsonTypes() throws IOException {
    LoraConfig c = LoraConfig.builder().r(32).loraAlpha(64).loraDropout(0.05).useRslora(true)
        .targetModules("q_proj", "k_proj").layersToTransform(List.of(3, 1)).build();
    c.writePeftConfig(dir, "meta-llama/Llama-3.1-8B");
    JsonObject ours = JsonParser.parseString(Files.readString(dir.resolve("adapter_config.json"))).getAsJsonObject();
    JsonObject peft = JsonParser.parseString(Files.readString(tinyAdapter().resolve("adapter_config.json")))
        .getAsJsonObject();
    assertEquals(peft.keySet(), ours.keySet());
    assertEquals("meta-llama/Llama-3.1-8B", ours.get("base_model_name_or_path").getAsString());
    assertEquals("32", ours.get("r").toString());
    assertEquals("64", ours.get("lora_alpha").toString());
    assertEquals("0.05", ours.get("lora_dropout").toString());
    assertEquals("true", ours.get("use_rslora").toString());
    assertEquals("[\"k_proj\",\"q_proj\"]", ours.get("target_modules").toString());
    assertEquals("[1,3]", ours.get("layers_to_transform").toString());
    for (String key : peft.keySet()) {
      if (!List.of("base_model_name_or_path", "layers_to_transform").contains(key)) {
        assertEquals(kind(peft.get(key)), kind(ours.get(key)), key);
      }
    }
    assertEquals(c.toBuilder().seed(0).build(), LoraConfig.readPeftConfig(dir));
  }

  private static String kind(JsonElement e) {
    if (e.isJsonNull() || e.isJsonObject() || e.isJsonArray()) {
      return e.isJsonNull() ? "null" : e.isJsonObject() ? "object" : "array";
    }
    var p = e.getAsJsonPrimitive();
    return p.isBoolean() ? "boolean" : p.isString() ? "string" : "number";
  }

  @Property(tries = 50)
  void writeThenReadGivesTheSameConfig(@ForAll @IntRange(min = 1, max = 256) int r,
      @ForAll @IntRange(min = 1, max = 512) int alpha, @ForAll @DoubleRange(min = 0, max = 0.9) double dropout,
      @ForAll @Size(min = 1, max = 7) @UniqueElements List<TargetModule> targets, @ForAll boolean rslora,
      @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 80) Integer> layers) throws IOException {
    LoraConfig c = LoraConfig.builder().r(r).loraAlpha(alpha).loraDropout(dropout).targetModules(targets)
        .useRslora(rslora).layersToTransform(layers).build();
    Path d = Files.createTempDirectory("lora-config");
    try {
      c.writePeftConfig(d, null);
      assertEquals(c, LoraConfig.readPeftConfig(d));
    } finally {
      Files.delete(d.resolve("adapter_config.json"));
      Files.delete(d);
    }
  }

  @Test
  void readsPeftsFile() throws IOException {
    LoraConfig c = LoraConfig.readPeftConfig(tinyAdapter());
    assertEquals(4, c.r());
    assertEquals(8.0, c.loraAlpha());
    assertEquals(Set.of(Q_PROJ, V_PROJ, DOWN_PROJ), c.targetModules());
    assertEquals(c, LoraConfig.readPeftConfig(tinyAdapter().resolve("adapter_config.json")));
  }

  /** PEFT's file with one key replaced: {@code replacement} is {@code "key": value}. */
  private String peftWith(String replacement) throws IOException {
    JsonObject peft = JsonParser.parseString(Files.readString(tinyAdapter().resolve("adapter_config.json")))
        .getAsJsonObject();
    JsonParser.parseString("{" + replacement + "}").getAsJsonObject().entrySet()
        .forEach(e -> peft.add(e.getKey(), e.getValue()));
    return new GsonBuilder().serializeNulls().create().toJson(peft);
  }

  private InvalidConfigException rejected(String replacement, String key, String fragment) throws IOException {
    Path file = dir.resolve("adapter_config.json");
    Files.writeString(file, peftWith(replacement));
    var e = assertThrows(InvalidConfigException.class, () -> LoraConfig.readPeftConfig(dir));
    assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
    assertTrue(e.getMessage().contains("'" + key + "'"), "names " + key + ": " + e.getMessage());
    assertTrue(e.getMessage().contains(fragment), "says '" + fragment + "': " + e.getMessage());
    return e;
  }

  private LoraConfig read(String replacement) throws IOException {
    Files.writeString(dir.resolve("adapter_config.json"), peftWith(replacement));
    return LoraConfig.readPeftConfig(dir);
  }

  @Test
  void refusesWhatLora4jCannotDo() throws IOException {
    rejected("\"use_dora\": true", "use_dora", "DoRA is not supported");
    rejected("\"bias\": \"all\"", "bias", "'all' is not supported");
    rejected("\"rank_pattern\": {\"q_proj\": 8}", "rank_pattern", "per-module patterns are not supported");
    rejected("\"alpha_pattern\": {\"q_proj\": 8}", "alpha_pattern", "per-module patterns are not supported");
    rejected("\"modules_to_save\": [\"lm_head\"]", "modules_to_save", "lora4j does not support it");
    rejected("\"peft_type\": \"IA3\"", "peft_type", "'IA3' is not LoRA");
    rejected("\"task_type\": \"SEQ_CLS\"", "task_type", "'SEQ_CLS' is not supported");
    rejected("\"init_lora_weights\": \"pissa_niter_4\"", "init_lora_weights", "'pissa_niter_4' is not supported");
    rejected("\"lora_bias\": true", "lora_bias", "is true");
    rejected("\"r\": 0", "r", "r must be > 0: 0");
    rejected("\"lora_dropout\": 1.0", "lora_dropout", "loraDropout must be in [0, 1): 1.0");
    rejected("\"r\": \"4\"", "r", "must be an integer, not a string");
    rejected("\"layers_pattern\": \"h\"", "layers_pattern", "is not supported");
  }

  @Test
  void targetModulesAsListOrString() throws IOException {
    rejected("\"target_modules\": [\"q_proj\", \"lm_head\"]", "target_modules",
        "unknown target module 'lm_head'; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    assertEquals(EnumSet.allOf(TargetModule.class), read("\"target_modules\": \"all-linear\"").targetModules());
    // PEFT's default for Llama when target_modules is null.
    assertEquals(EnumSet.of(Q_PROJ, V_PROJ), read("\"target_modules\": null").targetModules());

    LoraConfig every = read("\"target_modules\": \".*\\\\.(q_proj|v_proj)\"");
    assertEquals(EnumSet.of(Q_PROJ, V_PROJ), every.targetModules());
    assertEquals(List.of(), every.layersToTransform());
    LoraConfig some = read("\"target_modules\": \"model\\\\.layers\\\\.(0|1)\\\\.self_attn\\\\.(q_proj|k_proj)\"");
    assertEquals(EnumSet.of(Q_PROJ, K_PROJ), some.targetModules());
    assertEquals(List.of(0, 1), some.layersToTransform());

    rejected("\"target_modules\": \".*\"", "target_modules", "also selects lm_head");
    rejected("\"target_modules\": \"model\\\\.layers\\\\.0\\\\.self_attn\\\\.q_proj|.*\\\\.v_proj\"", "target_modules",
        "selects different layers for different modules");
    rejected("\"target_modules\": \"(\"", "target_modules", "does not compile");
    rejected("\"target_modules\": \"embed\"", "target_modules", "selects none of");
  }

  @Test
  void layersToTransformIntOrList() throws IOException {
    assertEquals(List.of(3), read("\"layers_to_transform\": 3").layersToTransform());
    assertEquals(List.of(0, 2), read("\"layers_to_transform\": [2, 0]").layersToTransform());
  }

  @Test
  void missingFile() {
    var e = assertThrows(InvalidConfigException.class, () -> LoraConfig.readPeftConfig(dir));
    assertEquals(dir + ": the directory holds no adapter_config.json", e.getMessage());
  }
}
