package io.github.lora4j.core.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * What the trainer measured at one logged optimizer step. A record logged at an evaluation step
 * also carries the evaluation's metrics, named as transformers names them ({@code eval_loss}).
 *
 * <pre>{@code
 * var m = new StepMetrics(100, 0.25, 1.83, 2e-4, 0.91, 5400, 3L << 30);
 * m.withEval(Map.of("eval_loss", 1.91)).evalLoss(); // OptionalDouble[1.91]
 * }</pre>
 *
 * @param step the optimizer step (transformers' {@code global_step}), 0 before the first update
 * @param epoch the fractional epoch, steps done divided by steps per epoch
 * @param loss the mean training loss since the previous log; NaN or infinite when training diverged
 * @param learningRate the learning rate of this step, finite and {@code >= 0}
 * @param gradNorm the global L2 norm of the gradients before clipping; NaN or infinite when a
 *     gradient was not finite
 * @param tokensPerSecond training tokens (not padding) per second since the previous log, {@code >= 0}
 * @param deviceBytes the peak device memory in bytes, {@code >= 0}
 * @param evalMetrics evaluation metrics at this step, in the order given; empty when there was no
 *     evaluation
 */
public record StepMetrics(
    long step,
    double epoch,
    double loss,
    double learningRate,
    double gradNorm,
    double tokensPerSecond,
    long deviceBytes,
    Map<String, Double> evalMetrics) {

  /** The evaluation metric the best checkpoint is chosen by (transformers' default metric_for_best_model). */
  public static final String EVAL_LOSS = "eval_loss";

  /** Checks every component and copies the map. */
  public StepMetrics {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0: " + step);
    }
    if (!(epoch >= 0) || Double.isInfinite(epoch)) {
      throw new IllegalArgumentException("epoch must be finite and >= 0: " + epoch);
    }
    if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learningRate must be finite and >= 0: " + learningRate);
    }
    if (!(tokensPerSecond >= 0) || Double.isInfinite(tokensPerSecond)) {
      throw new IllegalArgumentException("tokensPerSecond must be finite and >= 0: " + tokensPerSecond);
    }
    if (deviceBytes < 0) {
      throw new IllegalArgumentException("deviceBytes must be >= 0: " + deviceBytes);
    }
    Objects.requireNonNull(evalMetrics, "evalMetrics");
    var copy = new LinkedHashMap<String, Double>();
    for (Map.Entry<String, Double> e : evalMetrics.entrySet()) {
      if (e.getKey() == null || e.getKey().isBlank() || e.getValue() == null) {
        throw new IllegalArgumentException("evalMetrics must map non-blank names to values: " + evalMetrics);
      }
      copy.put(e.getKey(), e.getValue());
    }
    evalMetrics = Collections.unmodifiableMap(copy);
  }

  /** A record without evaluation metrics. */
  public StepMetrics(long step, double epoch, double loss, double learningRate, double gradNorm,
      double tokensPerSecond, long deviceBytes) {
    this(step, epoch, loss, learningRate, gradNorm, tokensPerSecond, deviceBytes, Map.of());
  }

  /** This record with {@code metrics} as its evaluation metrics. */
  public StepMetrics withEval(Map<String, Double> metrics) {
    return new StepMetrics(step, epoch, loss, learningRate, gradNorm, tokensPerSecond, deviceBytes, metrics);
  }

  /** Whether an evaluation ran at this step. */
  public boolean hasEval() {
    return !evalMetrics.isEmpty();
  }

  /** The validation loss, when an evaluation ran at this step. */
  public OptionalDouble evalLoss() {
    Double v = evalMetrics.get(EVAL_LOSS);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /**
   * This record as an entry of transformers' {@code log_history}, keys sorted as its
   * trainer_state.json has them: {@code epoch, grad_norm, learning_rate, loss, step}, lora4j's
   * {@code tokens_per_second} and {@code device_bytes}, and the evaluation metrics. Steps and bytes
   * are {@link Long}s, the rest {@link Double}s.
   */
  public Map<String, Object> toLogEntry() {
    var m = new TreeMap<String, Object>();
    m.put("step", step);
    m.put("epoch", epoch);
    m.put("loss", loss);
    m.put("learning_rate", learningRate);
    m.put("grad_norm", gradNorm);
    m.put("tokens_per_second", tokensPerSecond);
    m.put("device_bytes", deviceBytes);
    m.putAll(evalMetrics);
    return Collections.unmodifiableMap(m);
  }
}
