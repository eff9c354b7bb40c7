package io.github.lora4j.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.PricedExample;
import io.github.lora4j.data.PricerData;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What prepare() writes: a model directory transformers and lora4j load, and curated pricer JSONL. */
class PricerDemoTest {
  @TempDir Path dir;

  private final PricerDemo demo = PricerDemo.builder().trainExamples(40).evalExamples(10).build();

  @Test
  void writesALlamaDirectoryThatLoadsWithItsTokenizer() throws Exception {
    Path model = demo.writeModel(dir.resolve("model"));
    ModelConfig config = ModelConfig.load(model);
    try (PretrainedTokenizer tokenizer = PretrainedTokenizer.load(model)) {
      assertEquals(tokenizer.vocabSize(), config.vocabSize(), "one embedding row per token");
      assertEquals(config.bosTokenId().getAsInt(), tokenizer.bosTokenId().getAsInt());
      assertEquals(config.eosTokenIds(), List.of(tokenizer.eosTokenId().getAsInt()));
    }
    assertEquals(demo.modelConfig(config.vocabSize()), config, "config.json says what modelConfig() says");
    JsonObject json = JsonParser.parseString(Files.readString(model.resolve("config.json"))).getAsJsonObject();
    assertEquals("LlamaForCausalLM", json.getAsJsonArray("architectures").get(0).getAsString());
    try (Backend cpu = Backends.open(Device.cpu());
        LlamaModel loaded = LlamaModel.load(model, cpu, DType.F32);
        SafetensorsFile weights = SafetensorsFile.open(model.resolve("model.safetensors"))) {
      // Two matrices per projection, norms, embeddings and lm_head: nothing more, nothing less.
      assertEquals(2 + 1 + config.numHiddenLayers() * (2 + 7), weights.names().size(), weights.names().toString());
      assertEquals(config, loaded.config());
    }
  }

  @Test
  void theSameSettingsWriteTheSameModelAndAnotherSeedAnother() throws Exception {
    byte[] first = Files.readAllBytes(demo.writeModel(dir.resolve("a")).resolve("model.safetensors"));
    byte[] again = Files.readAllBytes(demo.writeModel(dir.resolve("b")).resolve("model.safetensors"));
    assertArrayEquals(first, again);
    byte[] other = Files.readAllBytes(PricerDemo.builder().seed(7).build().writeModel(dir.resolve("c")).resolve("model.safetensors"));
    assertEquals(first.length, other.length);
    assertFalse(java.util.Arrays.equals(first, other), "seed 7 draws other weights");
  }

  @Test
  void writesCuratedPromptCompletionRecordsThatFitTheSequenceLength() throws Exception {
    PricerDemo.Prepared prepared = demo.prepare(dir);
    List<String> train = Files.readAllLines(prepared.data().trainData());
    List<String> eval = Files.readAllLines(prepared.data().evalData());
    assertEquals(40, train.size());
    assertEquals(10, eval.size());
    List<PricedExample> examples = prepared.data().evalExamples();
    try (PretrainedTokenizer tokenizer = PretrainedTokenizer.load(prepared.modelDir())) {
      for (int i = 0; i < eval.size(); i++) {
        JsonObject record = JsonParser.parseString(eval.get(i)).getAsJsonObject();
        String prompt = record.get("prompt").getAsString();
        String completion = record.get("completion").getAsString();
        assertEquals(examples.get(i).prompt(), prompt, "evalExamples are the eval file's records, in order");
        assertTrue(prompt.startsWith(PricerData.QUESTION + "\n\n") && prompt.endsWith(PricerData.PRICE_PREFIX), prompt);
        assertEquals(Math.round(examples.get(i).price()), PricerData.parsePrice(completion).getAsDouble(), 0.0, completion);
        int tokens = tokenizer.encode(prompt + completion + "</s>", true).size();
        assertTrue(tokens <= demo.maxSequenceLength(), tokens + " tokens with BOS and EOS; the budget is " + demo.maxSequenceLength());
      }
    }
  }

  @Test
  void thePresetTrainsOnTheCpuAndValidates() throws Exception {
    PricerDemo.Prepared prepared = demo.prepare(dir);
    TrainerConfig c = demo.trainer(prepared).outputDir(dir.resolve("out")).build().config();
    assertEquals(Device.cpu(), c.device());
    assertEquals(prepared.modelDir(), c.baseModel());
    assertEquals(prepared.data().evalData(), c.evalData().orElseThrow());
    assertEquals(demo.maxSequenceLength(), c.maxSequenceLength());
    assertTrue(c.evalEvery() > 0 && c.maxSteps() > 0, c.toString());
  }

  @Test
  void aBadShapeIsRefusedNamingTheField() {
    var e = assertThrows(IllegalArgumentException.class, () -> PricerDemo.builder().hiddenSize(66).heads(4, 2).build());
    assertTrue(e.getMessage().contains("hiddenSize"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PricerDemo.builder().trainExamples(0));
    assertEquals("trainExamples must be positive: 0", e.getMessage());
  }
}
