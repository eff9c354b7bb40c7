package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The real Llama 3.1 tokenizer through DJL; skipped when tools/fetch-test-assets.sh has not run. */
class PretrainedTokenizerTest {

  /** Per test, so that each is reported as skipped when the tokenizer is absent. */
  private static PretrainedTokenizer tokenizer() {
    return TestAssets.llama31();
  }

  @Test
  void loadsAndClosesOnItsOwn() throws IOException {
    try (PretrainedTokenizer own = PretrainedTokenizer.load(TestAssets.llama31Tokenizer())) {
      assertArrayEquals(new int[] {128000, 9906}, own.encode("Hello", true).ids());
    }
  }

  @Test
  void missingFileIsAnError() {
    var e = assertThrows(IOException.class, () -> PretrainedTokenizer.load(java.nio.file.Path.of("no/such/dir")));
    assertTrue(e.getMessage().contains("no tokenizer file at no/such/dir/tokenizer.json"), e.getMessage());
  }

  @Test
  void specialTokensComeFromTheConfig() {
    assertEquals(128256, tokenizer().vocabSize());
    assertEquals(Optional.of("<|begin_of_text|>"), tokenizer().bosToken());
    assertEquals(Optional.of("<|eot_id|>"), tokenizer().eosToken());
    assertEquals(OptionalInt.of(128000), tokenizer().bosTokenId());
    assertEquals(OptionalInt.of(128009), tokenizer().eosTokenId());
    assertEquals(OptionalInt.of(128001), tokenizer().tokenId("<|end_of_text|>"));
    assertEquals(OptionalInt.of(9906), tokenizer().tokenId("Hello"));
    assertTrue(tokenizer().chatTemplate().orElseThrow().contains("<|start_header_id|>"));
    assertTrue(tokenizer().isSpecial(128000));
    // No pad token in Llama 3.1's config: padding falls back to EOS.
    assertEquals(128009, tokenizer().padTokenIdOrDefault());
  }

  @Test
  void postProcessorAddsBos() {
    assertArrayEquals(new int[] {128000, 9906}, tokenizer().encode("Hello", true).ids());
    assertArrayEquals(new int[] {9906}, tokenizer().encode("Hello", false).ids());
    // Special-token text in the input is one token, as in Hugging Face.
    assertArrayEquals(new int[] {128000, 6151, 128009}, tokenizer().encode("<|begin_of_text|>hi<|eot_id|>", false).ids());
  }

  @Test
  void spansAreUtf16IndicesIntoTheJavaString() {
    String text = "a\uD83D\uDE00b \u00E9"; // a, an emoji (two UTF-16 units), b, space, e-acute
    Tokens t = tokenizer().encode(text, true);
    assertEquals(0, t.starts()[0]);
    assertEquals(0, t.ends()[0]); // BOS covers no text
    int last = t.size() - 1;
    assertEquals(" \u00E9", text.substring(t.starts()[last], t.ends()[last]));
    assertEquals("b", text.substring(t.starts()[last - 1], t.ends()[last - 1]));
  }

  @Test
  void longTextsAreNotTruncated() {
    // DJL's default would cut at 512 tokens; truncation is the SFT encoder's job, with a count.
    String text = " word".repeat(3000);
    assertEquals(3001, tokenizer().encode(text, true).size());
  }

  @Test
  void decodeRoundTrips() {
    String text = "How much does this cost to the nearest dollar?\n\nPrice is $129.00";
    assertEquals(text, tokenizer().decode(tokenizer().encode(text, false).ids(), false));
    assertEquals("<|begin_of_text|>Hi", tokenizer().decode(tokenizer().encode("Hi", true).ids(), false));
    assertEquals("Hi", tokenizer().decode(tokenizer().encode("Hi", true).ids(), true));
  }
}
