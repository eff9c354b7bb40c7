package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PricerDataTest {

  @TempDir Path dir;

  static final String LONG = "A sturdy kettle that boils water quickly. ".repeat(10);

  @Test
  void promptAndCompletionAreExactlyTheSeeds() {
    assertEquals("How much does this cost to the nearest dollar?\n\nKettle\n\nPrice is $", PricerData.prompt("Kettle"));
    assertEquals("129.00", PricerData.completion(129.4));
    assertEquals("130.00", PricerData.completion(129.5));
    assertEquals("1.00", PricerData.completion(0.5));
  }

  @Test
  void parsesTheFirstNumberOfAGeneration() {
    assertEquals(OptionalDouble.of(1299.99), PricerData.parsePrice("$1,299.99 is the price"));
    assertEquals(OptionalDouble.of(42.0), PricerData.parsePrice("42.00<|eot_id|>"));
    assertEquals(OptionalDouble.empty(), PricerData.parsePrice("no idea"));
  }

  @Test
  void scrubDropsPunctuationAndPartNumbers() {
    assertEquals("Brand Acme, Model XK-12 fits 2024 cars", PricerData.scrub("{\"Brand\": \"Acme\",, \"Model\": \"XK-12\"} [fits] ABC1234567 2024 cars"));
  }

  @Test
  void curationDropsAndCountsWhatItCannotUse() {
    CharTokenizer tokenizer = new CharTokenizer();
    PricerData pricer = PricerData.builder(tokenizer).maxContentTokens(400).maxSequenceLength(403).build();
    List<PricerItem> items =
        List.of(
            new PricerItem("Kettle", List.of(LONG), List.of(), Map.of(), "Home", 29.99),
            new PricerItem("Yacht", List.of(LONG), List.of(), Map.of(), "Boats", 250_000),
            new PricerItem("Cheap", List.of(LONG), List.of(), Map.of(), "Home", 0.10),
            new PricerItem("Unknown", List.of(LONG), List.of(), Map.of(), "Home", Double.NaN),
            new PricerItem("Short", List.of("tiny"), List.of(), Map.of(), "Home", 10));
    PricerData.Curated curated = pricer.curate(items);
    assertEquals(1, curated.examples().size());
    assertEquals(5, curated.items());
    assertEquals(
        Map.of("price outside [0.5, 999.49]", 2L, "no price", 1L, "text shorter than 300 characters", 1L), curated.dropped());
    PricedExample kettle = curated.examples().getFirst();
    assertEquals("30.00", kettle.example().completion());
    assertTrue(kettle.prompt().startsWith(PricerData.QUESTION + "\n\nKettle\nA sturdy kettle"));
    assertTrue(kettle.prompt().endsWith("\n\nPrice is $"));
  }

  @Test
  void textIsCutToTheTokenBudget() {
    // One token per character: the budget is exact, so the cut can be checked to the token.
    CharTokenizer tokenizer = new CharTokenizer();
    PricerData pricer = PricerData.builder(tokenizer).maxContentTokens(179).maxSequenceLength(182).minChars(0).build();
    PricerData.Curated curated = pricer.curate(List.of(new PricerItem("Kettle", List.of(LONG), List.of(), Map.of(), "Home", 29.99)));
    assertEquals(1, curated.cut());
    Example.PromptCompletion pc = curated.examples().getFirst().example();
    int content = (pc.prompt() + pc.completion()).length();
    assertTrue(content <= 179 && content >= 177, "content tokens " + content);
  }

  @Test
  void syntheticListingsFitTheSeedsBudgetWithTheLlamaTokenizer() {
    PretrainedTokenizer tokenizer = TestAssets.llama31();
    List<PricerItem> items = SyntheticPricer.builder().seed(5).build().generate(60);
    PricerData.Curated curated = PricerData.builder(tokenizer).build().curate(items);
    assertEquals(60, curated.examples().size(), "dropped: " + curated.dropped());
    for (PricedExample e : curated.examples()) {
      int content = tokenizer.encode(e.prompt() + e.example().completion(), false).size();
      assertTrue(content <= 179, "content tokens " + content);
      assertFalse(e.text().matches("(?s).*\\b[A-Z]{2}-\\d{7}\\b.*"), "model numbers are scrubbed: " + e.text());
    }
    SftDataset data = SftDataset.encode(curated.trainingExamples(), tokenizer, SftConfig.builder().maxSequenceLength(182).build());
    assertEquals(0, data.statistics().truncated(), "nothing needs truncating at 182 with BOS and EOS");
    assertTrue(data.statistics().maxLength() <= 182);
    // The loss is on the price, its ".00" and EOS.
    TokenizedExample first = data.examples().getFirst();
    int[] trained = java.util.Arrays.stream(first.labels()).filter(l -> l != TokenBatch.IGNORE_INDEX).toArray();
    assertEquals(curated.examples().getFirst().example().completion() + "<|eot_id|>", tokenizer.decode(trained, false));
  }

  @Test
  void aBudgetWithoutRoomForSpecialTokensIsAConfigurationError() {
    // BOS and EOS need two tokens between maxContentTokens and maxSequenceLength.
    PricerData tight = PricerData.builder(new CharTokenizer()).maxContentTokens(400).maxSequenceLength(401).minChars(0).build();
    var e = assertThrows(IllegalStateException.class, () -> tight.curate(List.of(new PricerItem("Kettle", List.of("x".repeat(1000)), List.of(), Map.of(), "Home", 10))));
    assertTrue(e.getMessage().startsWith("the tokenizer adds 2 special tokens (with EOS), but maxContentTokens 400 and maxSequenceLength 401 leave room for 1"), e.getMessage());
  }

  @Test
  void readsAmazonStyleJsonl() throws IOException {
    Path file = dir.resolve("meta.jsonl");
    Files.writeString(
        file,
        """
        {"title": "Kettle", "description": ["Boils water."], "features": ["1.7 L"], "details": "{\\"Brand\\": \\"Acme\\", \\"Best Sellers Rank\\": \\"#1\\"}", "price": 29.99, "main_category": "Home"}
        {"title": "Mystery", "description": [], "features": [], "details": {}, "price": "None", "main_category": "Home"}
        {"title": "Bad price", "price": "cheap"}
        """);
    var e = assertThrows(InvalidRecordException.class, () -> PricerData.readItems(file, InvalidRecordPolicy.STRICT));
    assertTrue(e.getMessage().startsWith(file + ":3: field 'price': is not a number (cheap)"), e.getMessage());
    List<PricerItem> items = PricerData.readItems(file, InvalidRecordPolicy.SKIP_INVALID);
    assertEquals(2, items.size());
    PricerItem kettle = items.getFirst();
    assertEquals(Map.of("Brand", "Acme", "Best Sellers Rank", "#1"), kettle.details());
    assertEquals("Boils water.\n1.7 L\nBrand Acme\n", PricerData.contents(kettle));
    assertTrue(Double.isNaN(items.get(1).price()));
  }
}
