package io.github.lora4j.examples;

import io.github.lora4j.core.generate.Generator;
import io.github.lora4j.core.generate.PriceEvaluation;
import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.DatasetReader;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.Split;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import java.nio.file.Path;

/**
 * Loads a base model and a trained pricer adapter, answers the prompts of a pricer test file
 * greedily ("... Price is $" → "123.00"), and prints each guess and the course's metrics (mean
 * absolute error, RMSLE, hit rate).
 *
 * <pre>
 * java -cp ... io.github.lora4j.examples.PredictPrices MODEL_DIR ADAPTER_DIR TEST.jsonl [COUNT]
 * </pre>
 *
 * TEST.jsonl holds {@code {"prompt": ..., "completion": "123.00"}} records, as {@code lora4j train
 * --preset pricer-demo} writes them; the device is the GPU when one works, else the CPU.
 */
public final class PredictPrices {
  private PredictPrices() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: PredictPrices MODEL_DIR ADAPTER_DIR TEST.jsonl [COUNT]");
      System.exit(2);
    }
    Path modelDir = Path.of(args[0]);
    int count = args.length > 3 ? Integer.parseInt(args[3]) : 50;
    var examples = DatasetReader.builder(Path.of(args[2])).build().read(Split.ALL).examples();
    PriceEvaluation test = PriceEvaluation.of(examples, count)
        .orElseThrow(() -> new IllegalArgumentException(args[2] + " is not pricer data: every record needs a '... Price is $' prompt and a price completion"));
    try (Backend backend = Backends.open(Device.auto());
        LlamaModel model = LlamaModel.load(modelDir, backend, backend.defaultComputeType());
        LoraAdapter adapter = PeftAdapters.load(Path.of(args[1]), model.config(), backend);
        PretrainedTokenizer tokenizer = PretrainedTokenizer.load(modelDir)) {
      PriceEvaluation.Result result = test.run(new Generator(model, adapter), tokenizer, 16);
      for (PriceEvaluation.Guess g : result.guesses()) {
        String guess = g.price().isPresent() ? String.format("$%.2f", g.price().getAsDouble()) : "no price in '" + g.generated() + "'";
        System.out.printf("truth $%8.2f  guess %s%n", g.truth(), guess);
      }
      System.out.println(result.render());
    }
  }
}
