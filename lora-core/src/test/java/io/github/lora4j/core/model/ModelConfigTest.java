package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {

  @TempDir Path dir;

  static Path resource(String name) {
    try {
      return Path.of(ModelConfigTest.class.getResource(name).toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private Path config(String json) throws IOException {
    Path file = dir.resolve("config.json");
    Files.writeString(file, json);
    return file;
  }

  private static final String TINY = "\"model_type\": \"llama\", \"vocab_size\": 1000, \"hidden_size\": 256, "
      + "\"intermediate_size\": 512, \"num_hidden_layers\": 2, \"num_attention_heads\": 4";

  private InvalidConfigException rejected(String json, String key, String fragment) throws IOException {
    Path file = config(json);
    var e = assertThrows(InvalidConfigException.class, () -> ModelConfig.load(file));
    assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
    if (key != null) {
      assertTrue(e.getMessage().contains("'" + key + "'"), "names the key " + key + ": " + e.getMessage());
      assertEquals(key, e.key().orElseThrow());
    }
    assertTrue(e.getMessage().contains(fragment), "says '" + fragment + "': " + e.getMessage());
    return e;
  }

  @Test
  void llama31_8b() throws IOException {
    ModelConfig c = ModelConfig.load(resource("llama-3.1-8b"));
    assertEquals(ModelType.LLAMA, c.modelType());
    assertEquals(128256, c.vocabSize());
    assertEquals(4096, c.hiddenSize());
    assertEquals(14336, c.intermediateSize());
    assertEquals(32, c.numHiddenLayers());
    assertEquals(32, c.numAttentionHeads());
    assertEquals(8, c.numKeyValueHeads());
    assertEquals(128, c.headDim());
    assertEquals(4, c.numKeyValueGroups());
    assertEquals(4096, c.queryDim());
    assertEquals(1024, c.keyValueDim());
    assertEquals(1e-5, c.rmsNormEps());
    assertEquals(500000.0, c.ropeTheta());
    assertEquals(new RopeScaling.Llama3(8.0, 1.0, 4.0, 8192), c.ropeScaling());
    assertEquals(131072, c.maxPositionEmbeddings());
    assertFalse(c.tieWordEmbeddings());
    assertFalse(c.qkvBias() || c.oBias() || c.mlpBias());
    assertEquals(DType.BF16, c.torchDtype());
    assertEquals(OptionalInt.of(128000), c.bosTokenId());
    assertEquals(List.of(128001), c.eosTokenIds());
    assertEquals(OptionalInt.empty(), c.slidingWindow());
    assertEquals(8_030_261_248L, c.parameterCount());

    assertEquals(c, ModelConfig.bundled("llama-3.1-8b"));
    assertEquals(c, ModelConfig.load(resource("llama-3.1-8b/config.json")));
    // The same model as transformers 5 saves it: rope_parameters holding rope_theta, and dtype.
    assertEquals(c, ModelConfig.load(resource("transformers5/llama-3.1-8b.json")));
  }

  @Test
  void llama32_1b() throws IOException {
    ModelConfig c = ModelConfig.load(resource("llama-3.2-1b"));
    assertEquals(64, c.headDim());
    assertEquals(2048, c.queryDim());
    assertEquals(512, c.keyValueDim());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(new RopeScaling.Llama3(32.0, 1.0, 4.0, 8192), c.ropeScaling());
    assertEquals(1_235_814_400L, c.parameterCount());
    assertEquals(c, ModelConfig.bundled("llama-3.2-1b"));

    ModelConfig instruct = ModelConfig.load(resource("transformers5/llama-3.2-1b-instruct-eos.json"));
    assertEquals(List.of(128001, 128008, 128009), instruct.eosTokenIds());
    assertEquals(c.toBuilder().eosTokenIds(List.of(128001, 128008, 128009)).build(), instruct);
  }

  @Test
  void qwen2HasBiasesOnQkvOnly() throws IOException {
    ModelConfig c = ModelConfig.load(resource("transformers5/qwen2.5-0.5b.json"));
    assertEquals(ModelType.QWEN2, c.modelType());
    assertTrue(c.qkvBias());
    assertFalse(c.oBias() || c.mlpBias());
    assertEquals(64, c.headDim());
    assertEquals(1_000_000.0, c.ropeTheta());
    assertInstanceOf(RopeScaling.Default.class, c.ropeScaling());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(OptionalInt.empty(), c.bosTokenId());
    assertEquals(List.of(), c.eosTokenIds());
    assertEquals(DType.F32, c.torchDtype());
    assertEquals(494_032_768L, c.parameterCount());
  }

  @Test
  void llamaAttentionBiasCoversAllFourProjections() throws IOException {
    ModelConfig c = ModelConfig.load(config("{" + TINY + ", \"attention_bias\": true, \"mlp_bias\": true}"));
    assertTrue(c.qkvBias() && c.oBias() && c.mlpBias());
    ModelConfig plain = ModelConfig.load(config("{" + TINY + "}"));
    // q, k, v: 3 * 256; o: 256; gate, up: 2 * 512; down: 256; per layer, two layers.
    assertEquals(plain.parameterCount() + 2 * (3 * 256 + 256 + 2 * 512 + 256), c.parameterCount());
  }

  @Test
  void mistralDefaults() throws IOException {
    ModelConfig c = ModelConfig.load(config("{\"model_type\": \"mistral\", \"vocab_size\": 32000, "
        + "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_hidden_layers\": 32, "
        + "\"num_attention_heads\": 32, \"rope_theta\": 1000000.0, \"sliding_window\": null}"));
    assertEquals(8, c.numKeyValueHeads());
    assertEquals(OptionalInt.empty(), c.slidingWindow());
    assertFalse(c.qkvBias() || c.oBias() || c.mlpBias());
    ModelConfig windowed = ModelConfig.load(config("{\"model_type\": \"mistral\", \"vocab_size\": 32000, "
        + "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_hidden_layers\": 32, "
        + "\"num_attention_heads\": 32}"));
    assertEquals(OptionalInt.of(4096), windowed.slidingWindow());
  }

  @Test
  void defaultsAreTransformers() throws IOException {
    ModelConfig c = ModelConfig.load(config("{" + TINY + "}"));
    assertEquals(4, c.numKeyValueHeads());
    assertEquals(64, c.headDim());
    assertEquals(1e-6, c.rmsNormEps());
    assertEquals(10000.0, c.ropeTheta());
    assertEquals(2048, c.maxPositionEmbeddings());
    assertFalse(c.tieWordEmbeddings());
    assertEquals(OptionalInt.of(1), c.bosTokenId());
    assertEquals(List.of(2), c.eosTokenIds());
  }

  @Test
  void explicitHeadDimIsHonoured() throws IOException {
    ModelConfig c = ModelConfig.load(config("{" + TINY + ", \"head_dim\": 128}"));
    assertEquals(128, c.headDim());
    assertEquals(512, c.queryDim());
    // hidden_size need not be divisible by the heads when head_dim is given.
    assertEquals(96, ModelConfig.load(config("{" + TINY.replace("256", "250") + ", \"head_dim\": 96}")).headDim());
  }

  @Test
  void ropeScalingGenerations() throws IOException {
    // Old files: "type" instead of "rope_type".
    ModelConfig old = ModelConfig.load(config("{" + TINY + ", \"rope_scaling\": {\"type\": \"linear\", "
        + "\"factor\": 4.0}, \"rope_theta\": 10000.0}"));
    assertEquals(new RopeScaling.Linear(4.0), old.ropeScaling());
    // transformers 5 keeps both "type" and "rope_type" when it rewrites such a file.
    assertEquals(old, ModelConfig.load(resource("transformers5/llama-linear.json")));
    // Llama 2: rope_scaling null.
    ModelConfig llama2 = ModelConfig.load(config("{" + TINY + ", \"rope_scaling\": null, \"rope_theta\": 10000.0}"));
    assertInstanceOf(RopeScaling.Default.class, llama2.ropeScaling());
    // transformers 5: theta inside rope_parameters wins over a stale top-level one.
    ModelConfig v5 = ModelConfig.load(config("{" + TINY + ", \"rope_theta\": 1.0, \"rope_parameters\": "
        + "{\"rope_type\": \"default\", \"rope_theta\": 500000.0}}"));
    assertEquals(500000.0, v5.ropeTheta());
    // llama3 without original_max_position_embeddings takes max_position_embeddings.
    ModelConfig noOriginal = ModelConfig.load(config("{" + TINY + ", \"max_position_embeddings\": 4096, "
        + "\"rope_parameters\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
        + "\"high_freq_factor\": 4.0}}"));
    assertEquals(new RopeScaling.Llama3(8.0, 1.0, 4.0, 4096), noOriginal.ropeScaling());
  }

  @Test
  void dtypeFromEitherKey() throws IOException {
    assertEquals(DType.F16, ModelConfig.load(config("{" + TINY + ", \"torch_dtype\": \"float16\"}")).torchDtype());
    assertEquals(DType.BF16, ModelConfig.load(config("{" + TINY + ", \"dtype\": \"bfloat16\"}")).torchDtype());
  }

  @Test
  void unsupportedModelTypeListsTheSupportedOnes() throws IOException {
    rejected("{\"model_type\": \"gemma\"}", "model_type",
        "'gemma' is not supported; lora4j supports [llama, mistral, qwen2]");
  }

  @Test
  void missingRequiredKey() throws IOException {
    rejected("{" + TINY.replace("\"hidden_size\": 256, ", "") + "}", "hidden_size", "is missing; it must be an integer");
    rejected("{}", "model_type", "is missing");
  }

  @Test
  void wrongJsonType() throws IOException {
    rejected("{" + TINY.replace("\"hidden_size\": 256", "\"hidden_size\": \"256\"") + "}", "hidden_size",
        "must be an integer, not a string");
    rejected("{" + TINY.replace("\"hidden_size\": 256", "\"hidden_size\": 256.5") + "}", "hidden_size",
        "must be an integer in the int range, not 256.5");
    rejected("{" + TINY + ", \"tie_word_embeddings\": 1}", "tie_word_embeddings", "must be true or false");
    rejected("{" + TINY + ", \"rope_scaling\": [1]}", "rope_scaling", "must be an object, not a list");
    rejected("[1]", null, "must hold a JSON object");
    rejected("{" + TINY, null, "is not valid JSON");
  }

  @Test
  void nonPositiveSizes() throws IOException {
    rejected("{" + TINY.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 0") + "}", "num_hidden_layers",
        "num_hidden_layers must be > 0: 0");
    rejected("{" + TINY + ", \"rms_norm_eps\": -1}", "rms_norm_eps", "rms_norm_eps must be a positive number: -1.0");
  }

  @Test
  void headsMustDivide() throws IOException {
    rejected("{" + TINY.replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 6") + "}",
        "num_attention_heads", "hidden_size 256 is not divisible by num_attention_heads 6 (and head_dim is not given)");
    rejected("{" + TINY + ", \"num_key_value_heads\": 3}", "num_key_value_heads",
        "num_attention_heads 4 is not divisible by num_key_value_heads 3");
  }

  @Test
  void unsupportedRope() throws IOException {
    rejected("{" + TINY + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}", "rope_scaling.rope_type",
        "rope type 'yarn' is not supported; lora4j supports default, linear, llama3");
    rejected("{" + TINY + ", \"rope_parameters\": {\"type\": \"dynamic\", \"factor\": 2.0}}", "rope_parameters.type",
        "rope type 'dynamic' is not supported");
    rejected("{" + TINY + ", \"rope_scaling\": {\"rope_type\": \"linear\"}}", "rope_scaling.factor", "is missing");
    rejected("{" + TINY + ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 4.0, "
        + "\"high_freq_factor\": 1.0}}", "rope_scaling", "need 0 < lowFreqFactor < highFreqFactor");
  }

  @Test
  void otherUnsupportedKeys() throws IOException {
    rejected("{" + TINY + ", \"hidden_act\": \"gelu\"}", "hidden_act", "'gelu' is not supported");
    rejected("{" + TINY + ", \"torch_dtype\": \"float64\"}", "torch_dtype", "'float64' is not a dtype lora4j reads");
    rejected("{" + TINY.replace("llama", "qwen2") + ", \"use_sliding_window\": true}", "use_sliding_window",
        "is not supported");
  }

  @Test
  void missingConfigFile() {
    var e = assertThrows(InvalidConfigException.class, () -> ModelConfig.load(dir));
    assertEquals(dir + ": the directory holds no config.json", e.getMessage());
    e = assertThrows(InvalidConfigException.class, () -> ModelConfig.load(dir.resolve("nope.json")));
    assertTrue(e.getMessage().endsWith("nope.json: no such file"), e.getMessage());
  }

  @Test
  void builderChecksEagerlyAndNamesTheField() {
    var b = ModelConfig.builder(ModelType.LLAMA);
    var e = assertThrows(IllegalArgumentException.class, () -> b.hiddenSize(0));
    assertEquals("hiddenSize must be > 0: 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.ropeTheta(Double.NaN));
    assertEquals("ropeTheta must be a positive number: NaN", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.torchDtype(DType.I32));
    assertEquals("torchDtype must be a floating-point dtype: I32", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, b::build);
    assertEquals("vocabSize must be set", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.vocabSize(10).hiddenSize(12).intermediateSize(8)
        .numHiddenLayers(1).numAttentionHeads(4).numKeyValueHeads(2).build());
    assertEquals("headDim must be even for rotary embeddings: 3", e.getMessage());
    assertEquals(6, b.hiddenSize(24).build().headDim());
  }
}
