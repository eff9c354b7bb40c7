package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SFT preparation against TRL's own: the ids and labels of text, prompt-completion and
 * conversational examples after truncation, which examples TRL drops, and BFD-packed rows with
 * padding-free positions and labels. The fixture comes from tools/golden/sft_golden.py.
 */
class SftGoldenTest {

  static final String FIXTURE = "/golden/trl_sft.json";

  static JsonObject golden;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = SftGoldenTest.class.getResourceAsStream(FIXTURE)) {
      if (in != null) {
        golden = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
      }
    }
  }

  private static PretrainedTokenizer tokenizer() {
    assumeTrue(golden != null, "golden fixture " + FIXTURE + " not recorded: run tools/golden/sft_golden.py (see tools/golden/README.md)");
    return TestAssets.llama31();
  }

  @Test
  void promptCompletionMatchesTrl() {
    checkSection(tokenizer(), "prompt_completion");
  }

  @Test
  void allTokensMatchTrlWithoutCompletionOnlyLoss() {
    checkSection(tokenizer(), "prompt_completion_all_tokens");
  }

  @Test
  void textMatchesTrl() {
    checkSection(tokenizer(), "text");
  }

  @Test
  void conversationsMatchTrlsAssistantMasks() {
    // TRL needs {% generation %} blocks to find assistant tokens; lora4j finds them by rendering
    // prefixes. Both must pick the same tokens.
    Tokenizer withTemplate = new TemplateOverride(tokenizer(), golden.get("generation_template").getAsString());
    checkSection(withTemplate, "conversational");
  }

  private static void checkSection(Tokenizer tokenizer, String name) {
    JsonObject section = golden.getAsJsonObject(name);
    SftConfig config =
        SftConfig.builder()
            .maxSequenceLength(section.get("max_length").getAsInt())
            .completionOnlyLoss(section.get("completion_only_loss").getAsBoolean())
            .assistantOnlyLoss(section.get("assistant_only_loss").getAsBoolean())
            .build();
    SftEncoder encoder = new SftEncoder(tokenizer, config);
    int i = 0;
    for (JsonElement e : section.getAsJsonArray("cases")) {
      JsonObject c = e.getAsJsonObject();
      Example example = example(c.getAsJsonObject("example"));
      String what = name + " case " + i++ + ": " + example;
      if (c.has("dropped")) {
        // TRL drops it silently; lora4j says why (or counts it, with SKIP_INVALID).
        assertThrows(InvalidRecordException.class, () -> encoder.encode(example), what);
        continue;
      }
      TokenizedExample t = encoder.encode(example);
      assertArrayEquals(ints(c.getAsJsonArray("input_ids")), t.inputIds(), "input_ids of " + what);
      assertArrayEquals(ints(c.getAsJsonArray("labels")), t.labels(), "labels of " + what);
    }
  }

  @Test
  void bfdPackingMatchesTrl() {
    assumeTrue(golden != null, "golden fixture " + FIXTURE + " not recorded: run tools/golden/sft_golden.py");
    JsonObject packing = golden.getAsJsonObject("packing");
    int seqLength = packing.get("seq_length").getAsInt();
    List<TokenizedExample> examples = new ArrayList<>();
    for (JsonElement e : packing.getAsJsonArray("examples")) {
      int[] ids = ints(e.getAsJsonObject().getAsJsonArray("input_ids"));
      int[] labels = ints(e.getAsJsonObject().getAsJsonArray("labels"));
      // TRL's BFD truncates to the row length; lora4j's encoder has already done so.
      int n = Math.min(ids.length, seqLength);
      examples.add(new TokenizedExample(Arrays.copyOf(ids, n), Arrays.copyOf(labels, n), ids.length, Origin.IN_MEMORY));
    }
    SftConfig config = SftConfig.builder().maxSequenceLength(seqLength).packing(true).batchSize(1).shuffle(false).build();
    SftDataset data = SftDataset.of(examples, config, 128009);
    JsonArray rows = packing.getAsJsonArray("rows");
    assertEquals(rows.size(), data.rows());
    for (int r = 0; r < rows.size(); r++) {
      JsonObject row = rows.get(r).getAsJsonObject();
      TokenBatch b = data.batch(0, r);
      assertArrayEquals(ints(row.getAsJsonArray("input_ids")), b.inputIds(), "input_ids of row " + r);
      assertArrayEquals(ints(row.getAsJsonArray("position_ids")), b.positions(), "position_ids of row " + r);
      assertArrayEquals(ints(row.getAsJsonArray("labels")), b.labels(), "labels of row " + r);
      int[] lengths = ints(row.getAsJsonArray("seq_lengths"));
      int at = 0;
      for (int s = 0; s < lengths.length; s++) {
        for (int k = 0; k < lengths[s]; k++) {
          assertEquals(s + 1, b.segments()[at++], "segment of row " + r);
        }
      }
    }
  }

  private static Example example(JsonObject o) {
    if (o.has("messages")) {
      List<Message> messages = new ArrayList<>();
      for (JsonElement m : o.getAsJsonArray("messages")) {
        messages.add(new Message(m.getAsJsonObject().get("role").getAsString(), m.getAsJsonObject().get("content").getAsString()));
      }
      return new Example.Conversation(messages);
    }
    if (o.has("prompt")) {
      return new Example.PromptCompletion(o.get("prompt").getAsString(), o.get("completion").getAsString());
    }
    return new Example.Text(o.get("text").getAsString());
  }

  private static int[] ints(JsonArray a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsInt();
    }
    return out;
  }

  /** A tokenizer with another chat template, as a user passing their own template gets. */
  private record TemplateOverride(Tokenizer delegate, String template) implements Tokenizer {
    @Override
    public Tokens encode(String text, boolean addSpecialTokens) {
      return delegate.encode(text, addSpecialTokens);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
      return delegate.decode(ids, skipSpecialTokens);
    }

    @Override
    public int vocabSize() {
      return delegate.vocabSize();
    }

    @Override
    public OptionalInt tokenId(String token) {
      return delegate.tokenId(token);
    }

    @Override
    public Optional<String> bosToken() {
      return delegate.bosToken();
    }

    @Override
    public Optional<String> eosToken() {
      return delegate.eosToken();
    }

    @Override
    public Optional<String> padToken() {
      return delegate.padToken();
    }

    @Override
    public Optional<String> chatTemplate() {
      return Optional.of(template);
    }
  }
}
