package io.github.lora4j.core.generate;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.Example;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.io.IOException;
import java.nio.file.Path;
import io.github.lora4j.data.PriceMetrics;
import io.github.lora4j.data.PricerData;
import io.github.lora4j.data.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The pricer's evaluation, as the course's tester runs it: greedy generation after each prompt
 * ("... Price is $"), the first number in the text taken as the guess (0 when there is none, as the
 * course counts it), scored with {@link PriceMetrics}.
 *
 * <pre>{@code
 * PriceEvaluation eval = PriceEvaluation.of(examples).orElseThrow();
 * PriceEvaluation.Result r = eval.run(generator, tokenizer);
 * System.out.println(r.metrics().render());
 * }</pre>
 */
public final class PriceEvaluation {
  /** Enough for "123.00" with one token a digit, and for Llama 3's "123", ".", "00". */
  public static final int MAX_NEW_TOKENS = 8;

  private final List<String> prompts;
  private final double[] truths;

  private PriceEvaluation(List<String> prompts, double[] truths) {
    this.prompts = List.copyOf(prompts);
    this.truths = truths.clone();
  }

  /** One scored guess: the text the model wrote and the price read from it. */
  public record Guess(String prompt, String generated, double truth, OptionalDouble price) {}

  /**
   * What the model guessed and how good that was. {@code unparsed} counts answers with no number
   * (scored as $0).
   */
  public record Result(PriceMetrics metrics, int unparsed, List<Guess> guesses) {
    public Result {
      guesses = List.copyOf(guesses);
    }

    public String render() {
      return metrics.render() + (unparsed > 0 ? ", " + unparsed + " without a price" : "");
    }
  }

  /**
   * The pricer evaluation of the first {@code limit} examples, when the data is pricer data: every
   * example a prompt-completion whose prompt ends with "{@value PricerData#PRICE_PREFIX}" and whose
   * completion is a price; empty otherwise (and for no examples).
   */
  public static Optional<PriceEvaluation> of(List<? extends Example> examples, int limit) {
    List<String> prompts = new ArrayList<>();
    List<Double> truths = new ArrayList<>();
    for (Example e : examples) {
      if (!(e instanceof Example.PromptCompletion pc) || !pc.prompt().endsWith(PricerData.PRICE_PREFIX)) {
        return Optional.empty();
      }
      OptionalDouble price = PricerData.parsePrice(pc.completion());
      if (price.isEmpty()) {
        return Optional.empty();
      }
      if (prompts.size() < limit) {
        prompts.add(pc.prompt());
        truths.add(price.getAsDouble());
      }
    }
    if (prompts.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new PriceEvaluation(prompts, truths.stream().mapToDouble(Double::doubleValue).toArray()));
  }

  public int size() {
    return prompts.size();
  }

  /**
   * Loads the model in {@code modelDir} (weights in {@code dtype}; empty: the backend's {@link
   * Backend#defaultComputeType}, as the Trainer) and its tokenizer on {@code device}, with the PEFT adapter in {@code
   * adapterDir} when that is not null, and runs {@link #run(Generator, Tokenizer, int)}: the before
   * (no adapter) and after of a fine-tune.
   */
  public Result run(Path modelDir, Path adapterDir, Device device, Optional<DType> dtype, int batchSize) throws IOException {
    try (Backend backend = Backends.open(device);
        LlamaModel model = LlamaModel.load(modelDir, backend, dtype.orElse(backend.defaultComputeType()));
        LoraAdapter adapter = adapterDir == null ? null : PeftAdapters.load(adapterDir, model.config(), backend);
        PretrainedTokenizer tokenizer = PretrainedTokenizer.load(modelDir)) {
      return run(new Generator(model, adapter), tokenizer, batchSize);
    }
  }

  /** Generates an answer for every prompt (greedy, batches of {@code batchSize}) and scores it. */
  public Result run(Generator generator, Tokenizer tokenizer, int batchSize) {
    List<int[]> ids = new ArrayList<>(prompts.size());
    for (String p : prompts) {
      ids.add(tokenizer.encode(p, true).ids());
    }
    GenerationConfig config = GenerationConfig.builder()
        .maxNewTokens(MAX_NEW_TOKENS)
        .batchSize(batchSize)
        .stopTokenIds(tokenizer.eosTokenId().isPresent() ? Set.of(tokenizer.eosTokenId().getAsInt()) : Set.of())
        .build();
    List<Generation> out = generator.generate(ids, config);
    double[] guesses = new double[prompts.size()];
    List<Guess> guessList = new ArrayList<>(prompts.size());
    int unparsed = 0;
    for (int i = 0; i < prompts.size(); i++) {
      String text = tokenizer.decode(out.get(i).tokens(), true);
      OptionalDouble price = PricerData.parsePrice(text);
      if (price.isEmpty()) {
        unparsed++;
      }
      guesses[i] = price.orElse(0);
      guessList.add(new Guess(prompts.get(i), text, truths[i], price));
    }
    return new Result(PriceMetrics.of(truths, guesses), unparsed, guessList);
  }
}
