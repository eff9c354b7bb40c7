package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Greedy generation against transformers' {@code generate()} with PEFT on the golden tiny Llama
 * ({@code tools/golden/generate_golden.py}): the same tokens for a left-padded batch of prompts of
 * lengths 7, 2, 11 and 5.
 */
class GenerationGoldenTest {

  @Test
  void greedyTokensEqualTransformers() throws Exception {
    JsonObject golden = JsonParser.parseString(Files.readString(GenerationChecks.GOLDEN.resolve("generation.json"))).getAsJsonObject();
    List<int[]> prompts = rows(golden.getAsJsonArray("prompts"));
    List<int[]> batched = rows(golden.getAsJsonArray("batched"));
    int newTokens = golden.get("new_tokens").getAsInt();
    try (Backend cpu = Backends.open(Device.cpu());
        GenerationChecks checks = new GenerationChecks(cpu, DType.F32)) {
      List<Generation> got = new Generator(checks.model, checks.adapter).generate(prompts, GenerationConfig.builder().maxNewTokens(newTokens).build());
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(batched.get(i), got.get(i).tokens(), "prompt " + i + " (length " + prompts.get(i).length + ")");
      }
      assertEquals(prompts.size(), got.size());
    }
  }

  private static List<int[]> rows(JsonArray array) {
    List<int[]> out = new ArrayList<>();
    array.forEach(row -> out.add(row.getAsJsonArray().asList().stream().mapToInt(e -> e.getAsInt()).toArray()));
    return out;
  }
}
