package io.github.lora4j.core.train;

import io.github.lora4j.core.generate.Generator;
import io.github.lora4j.core.generate.PriceEvaluation;
import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.SftDataset;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.data.Tokenizer;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the trainer measures on the validation set at an evaluation step: the mean token loss
 * (transformers' {@code eval_loss}), and for pricer data the course's price metrics from greedy
 * answers ({@code eval_price_mae}, {@code eval_price_rmsle}, {@code eval_price_hit_rate}).
 */
final class Evaluation {
  static final String PRICE_MAE = "eval_price_mae";
  static final String PRICE_RMSLE = "eval_price_rmsle";
  static final String PRICE_HIT_RATE = "eval_price_hit_rate";

  private final Backend backend;
  private final LlamaModel model;
  private final LoraAdapter adapter;
  private final Optional<SftDataset> data;
  private final Optional<PriceEvaluation> prices;
  private final Tokenizer tokenizer;
  private final int batchSize;
  private PriceEvaluation.Result lastPrices;

  Evaluation(Backend backend, LlamaModel model, LoraAdapter adapter, Optional<SftDataset> data, Optional<PriceEvaluation> prices, Tokenizer tokenizer, int batchSize) {
    this.backend = backend;
    this.model = model;
    this.adapter = adapter;
    this.data = data;
    this.prices = prices;
    this.tokenizer = tokenizer;
    this.batchSize = batchSize;
  }

  boolean enabled() {
    return data.isPresent();
  }

  /** The price metrics of the latest evaluation, if the data is pricer data. */
  Optional<PriceEvaluation.Result> lastPrices() {
    return Optional.ofNullable(lastPrices);
  }

  /** Runs the evaluation; the metrics in the order they are logged. */
  Map<String, Double> run() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(StepMetrics.EVAL_LOSS, loss(data.orElseThrow()));
    if (prices.isPresent()) {
      lastPrices = prices.get().run(new Generator(model, adapter), tokenizer, batchSize);
      m.put(PRICE_MAE, lastPrices.metrics().meanAbsoluteError());
      m.put(PRICE_RMSLE, lastPrices.metrics().rmsle());
      m.put(PRICE_HIT_RATE, lastPrices.metrics().hitRate());
    }
    return m;
  }

  /** Mean token cross-entropy over the validation set, without dropout or gradients. */
  private double loss(SftDataset eval) {
    double sum = 0;
    long count = 0;
    for (TokenBatch b : eval.epoch(0)) {
      int counted = b.countedTargets();
      if (counted == 0) {
        continue;
      }
      try (Tensor logits = model.logits(b, adapter);
          Tensor targets = backend.fromInts(b.shiftedTargets(), Shape.of(b.tokenCount()));
          Tensor s = backend.crossEntropySum(logits, targets, TokenBatch.IGNORE_INDEX)) {
        sum += backend.toFloats(s)[0];
        count += counted;
      }
    }
    return count == 0 ? Double.NaN : sum / count;
  }
}
