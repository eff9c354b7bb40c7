package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Token ids, offsets and chat-template renderings against Hugging Face's {@code tokenizers} and
 * {@code transformers}, from the fixture that tools/golden/tokenizer_ids.py writes (it names the
 * versions it was made with). Skipped, saying how to record it, when the fixture is missing.
 */
class TokenizerGoldenTest {

  static final String FIXTURE = "/golden/llama31_tokenizer.json";

  static JsonObject golden;
  static PretrainedTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = TokenizerGoldenTest.class.getResourceAsStream(FIXTURE)) {
      if (in != null) {
        golden = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
      }
    }
  }

  /** Skips the test, saying how to record the fixture, until it is recorded. */
  private static void assumeRecorded() {
    assumeTrue(
        golden != null,
        "golden fixture " + FIXTURE + " not recorded yet: run `python3 tools/golden/tokenizer_ids.py .cache/test-assets/llama3_1` "
            + "with transformers and tokenizers installed (see tools/golden/README.md)");
    tokenizer = TestAssets.llama31();
  }

  @Test
  void idsMatchHuggingFace() {
    assumeRecorded();
    assertEquals(golden.get("vocab_size").getAsInt(), tokenizer.vocabSize());
    assertEquals(golden.get("bos_token_id").getAsInt(), tokenizer.bosTokenId().orElseThrow());
    assertEquals(golden.get("eos_token_id").getAsInt(), tokenizer.eosTokenId().orElseThrow());
    for (JsonElement e : golden.getAsJsonArray("texts")) {
      JsonObject c = e.getAsJsonObject();
      String text = c.get("text").getAsString();
      assertArrayEquals(ints(c.getAsJsonArray("ids")), tokenizer.encode(text, true).ids(), () -> "with special tokens: " + text);
      Tokens plain = tokenizer.encode(text, false);
      assertArrayEquals(ints(c.getAsJsonArray("ids_without_special_tokens")), plain.ids(), () -> "without special tokens: " + text);
      // Hugging Face's offsets are code points; ours are UTF-16 indices of the same characters.
      JsonArray offsets = c.getAsJsonArray("offsets_without_special_tokens");
      for (int i = 0; i < plain.size(); i++) {
        JsonArray o = offsets.get(i).getAsJsonArray();
        int start = text.offsetByCodePoints(0, o.get(0).getAsInt());
        int end = text.offsetByCodePoints(0, o.get(1).getAsInt());
        int token = i;
        assertEquals(start, plain.starts()[i], () -> "start of token " + token + " of " + text);
        assertEquals(end, plain.ends()[i], () -> "end of token " + token + " of " + text);
      }
      assertEquals(c.get("decoded").getAsString(), tokenizer.decode(tokenizer.encode(text, true).ids(), false), () -> "decode: " + text);
    }
  }

  @Test
  void chatTemplateMatchesTransformers() {
    assumeRecorded();
    ChatTemplate template = ChatTemplate.of(tokenizer);
    for (JsonElement e : golden.getAsJsonArray("conversations")) {
      JsonObject c = e.getAsJsonObject();
      List<Message> messages = new ArrayList<>();
      for (JsonElement m : c.getAsJsonArray("messages")) {
        messages.add(new Message(m.getAsJsonObject().get("role").getAsString(), m.getAsJsonObject().get("content").getAsString()));
      }
      boolean generationPrompt = c.get("add_generation_prompt").getAsBoolean();
      String rendered = template.render(messages, generationPrompt);
      assertEquals(c.get("rendered").getAsString(), rendered, () -> "rendering of " + messages);
      assertArrayEquals(ints(c.getAsJsonArray("ids")), tokenizer.encode(rendered, false).ids(), () -> "ids of " + messages);
    }
  }

  private static int[] ints(JsonArray a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsInt();
    }
    return out;
  }
}
