package io.github.lora4j.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraLayoutTest {

  private static final LoraConfig QKVO_R32 = LoraConfig.builder().r(32).loraAlpha(64)
      .targetModules("q_proj", "k_proj", "v_proj", "o_proj").build();

  @Test
  void llama31_8bWithR32OnAttention() {
    var layout = new LoraLayout(ModelConfig.bundled("llama-3.1-8b"), QKVO_R32);
    assertEquals(27_262_976L, layout.trainableParameterCount());
    assertEquals(109_051_904L, layout.trainableBytes(DType.F32)); // 109.05 MB
    List<LoraLayout.AdaptedModule> modules = layout.modules();
    assertEquals(128, modules.size());

    LoraLayout.AdaptedModule q = modules.get(0);
    assertEquals("model.layers.0.self_attn.q_proj", q.modulePath());
    assertEquals("base_model.model.model.layers.0.self_attn.q_proj", q.peftName());
    assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", q.loraAKey());
    assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", q.loraBKey());
    assertArrayEquals(new long[] {32, 4096}, q.loraAShape());
    assertArrayEquals(new long[] {4096, 32}, q.loraBShape());
    LoraLayout.AdaptedModule k = modules.get(1);
    assertEquals(TargetModule.K_PROJ, k.target());
    assertArrayEquals(new long[] {1024, 32}, k.loraBShape());
    LoraLayout.AdaptedModule o = modules.get(3);
    assertEquals(4096, o.inFeatures());
    assertEquals(4096, o.outFeatures());
    assertEquals(31, modules.get(127).layer());
    assertEquals(256, layout.adapterTensors().size());
  }

  /** r=16 on all seven projections of Llama 3.1 8B: 16 * 81,920 per layer, 32 layers. */
  @Test
  void allLinear() {
    var layout = new LoraLayout(ModelConfig.bundled("llama-3.1-8b"),
        LoraConfig.builder().r(16).targetModules("all-linear").build());
    assertEquals(41_943_040L, layout.trainableParameterCount());
    var down = layout.modules().get(6);
    assertEquals(TargetModule.DOWN_PROJ, down.target());
    assertArrayEquals(new long[] {16, 14336}, down.loraAShape());
    assertArrayEquals(new long[] {4096, 16}, down.loraBShape());
  }

  /** PEFT's get_nb_trainable_parameters() for r=32 on q, k, v, o (tools/golden/hf_io_goldens.py). */
  @Test
  void matchesPeftsCounts(@TempDir Path dir) throws IOException, URISyntaxException {
    Path goldens = Path.of(ModelConfig.class.getResource("hf-goldens.json").toURI());
    JsonObject cases = JsonParser.parseString(Files.readString(goldens)).getAsJsonObject().getAsJsonObject("cases");
    for (Map.Entry<String, JsonElement> e : cases.entrySet()) {
      JsonObject c = e.getValue().getAsJsonObject();
      JsonElement config = c.get("config");
      ModelConfig model;
      if (config.isJsonPrimitive()) {
        model = ModelConfig.load(goldens.resolveSibling(config.getAsString()));
      } else {
        Files.writeString(dir.resolve("config.json"), config.toString());
        model = ModelConfig.load(dir);
      }
      assertEquals(c.get("lora_r32_qkvo_trainable").getAsLong(),
          new LoraLayout(model, QKVO_R32).trainableParameterCount(), e.getKey());
      assertEquals(c.get("base_parameters").getAsLong(), model.parameterCount(), e.getKey());
    }
  }

  @Test
  void layersToTransform() {
    ModelConfig llama = ModelConfig.bundled("llama-3.2-1b");
    var layout = new LoraLayout(llama, QKVO_R32.toBuilder().layersToTransform(List.of(5, 0, 40)).build());
    assertEquals(List.of(0, 5), layout.adaptedLayers());
    assertEquals(8, layout.modules().size());
    var e = assertThrows(IllegalArgumentException.class,
        () -> new LoraLayout(llama, QKVO_R32.toBuilder().layersToTransform(List.of(16)).build()));
    assertEquals("layersToTransform [16] selects no layer of a model with 16 layers (0-15)", e.getMessage());
  }

  @Test
  void peftsAdapterFileMatchesTheLayout() throws IOException {
    Path tiny = LoraConfigTest.tinyAdapter();
    var layout = new LoraLayout(ModelConfig.load(tiny), LoraConfig.readPeftConfig(tiny));
    try (var adapter = SafetensorsFile.open(tiny.resolve("adapter_model.safetensors"))) {
      assertEquals(layout.adapterTensors(), adapter.names().stream().map(adapter::info).sorted(
          (a, b) -> a.name().compareTo(b.name())).toList());
      LoraLayout.AdapterCheck check = layout.check(adapter);
      assertTrue(check.ok(), check.toString());
    }
  }

  @Test
  void checkReportsMissingUnexpectedAndMisshapen(@TempDir Path dir) throws IOException {
    Path tiny = LoraConfigTest.tinyAdapter();
    var layout = new LoraLayout(ModelConfig.load(tiny), LoraConfig.readPeftConfig(tiny));
    var w = new SafetensorsWriter();
    List<TensorInfo> expected = layout.adapterTensors();
    for (TensorInfo t : expected.subList(2, expected.size())) {
      long[] shape = t.name().endsWith("layers.1.self_attn.v_proj.lora_B.weight") ? new long[] {32, 8} : t.shape();
      w.putFloats(t.name(), new float[(int) (shape[0] * shape[1])], DType.BF16, shape);
    }
    w.putFloats("base_model.model.lm_head.lora_A.weight", new float[4], DType.F32, 1, 4);
    w.write(dir.resolve("adapter_model.safetensors"));
    try (var adapter = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
      LoraLayout.AdapterCheck check = layout.check(adapter);
      assertFalse(check.ok());
      assertEquals(List.of(expected.get(0).name(), expected.get(1).name()), check.missing());
      assertEquals(List.of("base_model.model.lm_head.lora_A.weight"), check.unexpected());
      assertEquals(List.of("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight: BF16 [32, 8], "
          + "expected [32, 4]"), check.mismatched());
    }
  }
}
