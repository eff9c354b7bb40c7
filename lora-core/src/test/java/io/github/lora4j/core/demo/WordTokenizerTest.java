package io.github.lora4j.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.PricedExample;
import io.github.lora4j.data.PricerData;
import io.github.lora4j.data.SftConfig;
import io.github.lora4j.data.SftEncoder;
import io.github.lora4j.data.SyntheticPricer;
import io.github.lora4j.data.TokenizedExample;
import io.github.lora4j.data.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The demo's tokenizer as the Trainer loads it (tokenizer.json through DJL's Rust tokenizers): every
 * synthetic listing encodes without unknown tokens and decodes back to itself, digits are tokens of
 * their own, and the Java encoder that counts tokens before the files exist gives the same ids.
 */
class WordTokenizerTest {
  // Made once for the class's JUnit tests and jqwik properties alike (each engine has its own
  // lifecycle annotations); the native tokenizer lives as long as the test JVM.
  private static final WordTokenizer java = PricerDemo.tokenizer();
  private static final PretrainedTokenizer hf = load(java);

  private static PretrainedTokenizer load(WordTokenizer tokenizer) {
    try {
      Path dir = Files.createTempDirectory("word-tokenizer");
      tokenizer.write(dir);
      PretrainedTokenizer loaded = PretrainedTokenizer.load(dir);
      for (String f : List.of(PretrainedTokenizer.TOKENIZER_FILE, PretrainedTokenizer.CONFIG_FILE)) {
        Files.delete(dir.resolve(f));
      }
      Files.delete(dir);
      return loaded;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Listings of any seed, curated as the demo curates them but not cut, so every word is seen. */
  private static List<PricedExample> listings(long seed, int count) {
    return PricerData.builder(java).maxContentTokens(100_000).maxSequenceLength(100_000).build()
        .curate(SyntheticPricer.builder().seed(seed).build().generate(count)).examples();
  }

  @Property(tries = 40)
  void everyListingEncodesWithoutUnknownTokensAndDecodesToItself(@ForAll long seed) {
    int unk = hf.tokenId(WordTokenizer.UNK).getAsInt();
    for (PricedExample e : listings(seed, 25)) {
      for (String text : List.of(e.prompt(), e.example().completion(), e.prompt() + e.example().completion())) {
        Tokens t = hf.encode(text, true);
        assertTrue(Arrays.stream(t.ids()).noneMatch(id -> id == unk), () -> "an unknown token in: " + text);
        assertEquals(text, hf.decode(t.ids(), true), "decode(encode(text)) is the text");
        assertArrayEquals(t.ids(), java.encode(text, true).ids(), () -> "the Java encoder and tokenizer.json disagree on: " + text);
      }
    }
  }

  @Test
  void digitsAreTokensOfTheirOwnSoAGeneratedPriceParses() {
    Tokens price = hf.encode("1029.00", false);
    assertEquals(7, price.size(), "one token per character of 1029.00");
    for (int d = 0; d <= 9; d++) {
      assertEquals(hf.tokenId(Integer.toString(d)).getAsInt(), hf.encode(Integer.toString(d), false).ids()[0]);
    }
    String generated = hf.decode(hf.encode("123.00", false).ids(), true);
    assertEquals(OptionalDouble.of(123.0), PricerData.parsePrice(generated));
  }

  @Test
  void specialTokensAreLlamasBosInFrontAndTheSftEncodersEosAtTheEnd() {
    assertEquals(1, hf.bosTokenId().getAsInt());
    assertEquals(2, hf.eosTokenId().getAsInt());
    assertEquals("<pad>", hf.padToken().orElseThrow());
    PricedExample e = listings(3, 1).getFirst();
    TokenizedExample encoded = new SftEncoder(hf, SftConfig.builder().maxSequenceLength(1024).build()).encode(e.example());
    int[] ids = encoded.inputIds();
    assertEquals(1, ids[0], "BOS first");
    assertEquals(2, ids[ids.length - 1], "the completion ends with EOS, as TRL appends it");
    assertEquals(e.example().completion().length() + 1, encoded.lossTokens(), "the completion's characters and EOS carry the loss");
  }

  @Test
  void theVocabularyIsAFewHundredTokens() {
    assertEquals(java.vocabSize(), hf.vocabSize());
    assertTrue(hf.vocabSize() > 100 && hf.vocabSize() < 600, "vocabulary size " + hf.vocabSize());
  }

  @Test
  void anUnknownWordIsOneUnknownTokenNotAnError() {
    Tokens t = hf.encode("Zyzzyva costs 5", false);
    assertEquals(hf.tokenId(WordTokenizer.UNK).getAsInt(), t.ids()[0]);
    assertEquals(List.of("Zyzzyva", " costs", " ", "5"), WordTokenizer.pieces("Zyzzyva costs 5"));
  }

  @Test
  void piecesCoverTheTextExactly() {
    String text = "How much?\n\nSterling & Vale Large  Oak, 12.5 x 8 inches\n\nPrice is $";
    assertEquals(text, String.join("", WordTokenizer.pieces(text)));
    assertEquals(List.of("Sterling", " ", "&", " Vale", "\n", "1", "2", ".", "5"), WordTokenizer.pieces("Sterling & Vale\n12.5"));
  }
}
