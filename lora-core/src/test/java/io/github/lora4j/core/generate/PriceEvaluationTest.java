package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.data.Example;
import io.github.lora4j.data.Origin;
import io.github.lora4j.data.PriceMetrics;
import io.github.lora4j.data.PricerData;
import io.github.lora4j.data.Tokenizer;
import io.github.lora4j.data.Tokens;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Which data gets price metrics, and how answers are read and scored. */
class PriceEvaluationTest {

  private static Example.PromptCompletion priced(String text, double price) {
    return new Example.PromptCompletion(PricerData.prompt(text), PricerData.completion(price), new Origin("test", 1));
  }

  @Test
  void onlyPricerDataIsPriced() {
    assertTrue(PriceEvaluation.of(List.of(priced("A lamp", 20), priced("A chair", 45)), 10).isPresent());
    assertEquals(1, PriceEvaluation.of(List.of(priced("A lamp", 20), priced("A chair", 45)), 1).orElseThrow().size());
    var other = new Example.PromptCompletion("Translate: cat", "chat", new Origin("test", 3));
    assertTrue(PriceEvaluation.of(List.of(priced("A lamp", 20), other), 10).isEmpty(), "one non-pricer example turns it off");
    var wordy = new Example.PromptCompletion(PricerData.prompt("A lamp"), "about twenty", new Origin("test", 4));
    assertTrue(PriceEvaluation.of(List.of(wordy), 10).isEmpty(), "a completion without a price is not pricer data");
    assertTrue(PriceEvaluation.of(List.of(), 10).isEmpty());
  }

  /**
   * The golden tiny model answers with whatever its random weights say; the evaluation must score
   * exactly what the generator produced, read as the course reads it.
   */
  @Test
  void scoresWhatTheModelGenerated() throws Exception {
    Tokenizer ascii = new AsciiTokenizer();
    List<Example.PromptCompletion> examples = List.of(priced("Blue lamp", 20), priced("Oak chair", 145), priced("Steel pan", 60));
    try (Backend cpu = Backends.open(Device.cpu());
        GenerationChecks golden = new GenerationChecks(cpu, DType.F32)) {
      Generator generator = new Generator(golden.model, golden.adapter);
      PriceEvaluation.Result r = PriceEvaluation.of(examples, 10).orElseThrow().run(generator, ascii, 2);
      List<int[]> prompts = new ArrayList<>();
      examples.forEach(e -> prompts.add(ascii.encode(e.prompt(), true).ids()));
      List<Generation> direct = generator.generate(prompts, GenerationConfig.builder().maxNewTokens(PriceEvaluation.MAX_NEW_TOKENS).build());
      double[] truths = {20, 145, 60};
      double[] guesses = new double[3];
      int unparsed = 0;
      for (int i = 0; i < 3; i++) {
        String text = ascii.decode(direct.get(i).tokens(), true);
        assertEquals(text, r.guesses().get(i).generated());
        var price = PricerData.parsePrice(text);
        guesses[i] = price.orElse(0);
        unparsed += price.isEmpty() ? 1 : 0;
      }
      PriceMetrics want = PriceMetrics.of(truths, guesses);
      assertEquals(want.meanAbsoluteError(), r.metrics().meanAbsoluteError(), 1e-12);
      assertEquals(want.hitRate(), r.metrics().hitRate(), 1e-12);
      assertEquals(unparsed, r.unparsed());
    }
  }

  /** Printable ASCII as the golden model's 96 ids: id = char - 32. */
  private static final class AsciiTokenizer implements Tokenizer {
    @Override
    public Tokens encode(String text, boolean addSpecialTokens) {
      String s = text.replaceAll("[^ -\\x7f]", " ");
      int[] ids = new int[s.length()];
      int[] starts = new int[s.length()];
      int[] ends = new int[s.length()];
      for (int i = 0; i < s.length(); i++) {
        ids[i] = s.charAt(i) - 32;
        starts[i] = i;
        ends[i] = i + 1;
      }
      return new Tokens(ids, starts, ends);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
      StringBuilder b = new StringBuilder();
      for (int id : ids) {
        b.append((char) (id + 32));
      }
      return b.toString();
    }

    @Override
    public int vocabSize() {
      return 96;
    }

    @Override
    public OptionalInt tokenId(String token) {
      return token.length() == 1 ? OptionalInt.of(token.charAt(0) - 32) : OptionalInt.empty();
    }

    @Override
    public Optional<String> bosToken() {
      return Optional.empty();
    }

    @Override
    public Optional<String> eosToken() {
      return Optional.empty();
    }

    @Override
    public Optional<String> padToken() {
      return Optional.empty();
    }

    @Override
    public Optional<String> chatTemplate() {
      return Optional.empty();
    }
  }
}
