package io.github.lora4j.optim;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Exact gradient accumulation: k micro-batches give the gradient of one k-times larger batch. The
 * loss of a causal LM is the mean over the tokens that carry a label, so the gradient of the large
 * batch is the sum over all its tokens divided by their total count. Averaging the k micro-batch
 * means instead weights every micro-batch equally however many tokens it has, which is wrong when
 * padding and prompt masking make the counts uneven (transformers fixed this in 4.46, 2024, by
 * passing {@code num_items_in_batch}). So count first, then scale:
 *
 * <pre>{@code
 * try (GradientAccumulation acc = GradientAccumulation.over(backend, counts)) {  // loss tokens of each micro-batch
 *   for (int i = 0; i < k; i++) {
 *     acc.addLossSum(model.forwardBackward(microBatch[i], adapter, acc.gradScale(), seed));
 *   }
 *   optimizer.step();
 *   optimizer.zeroGrad();
 *   log(acc.meanLoss());                       // the token-weighted mean, read from the device here
 * }
 * }</pre>
 *
 * Every micro-batch's backward is scaled by the same {@code 1 / total}, its loss sum is added on the
 * device without a host synchronisation, and {@link #meanLoss()} divides the total loss by the total
 * count. With an fp16 {@link LossScaler}, pass {@link #gradScale(LossScaler)} instead.
 */
public final class GradientAccumulation implements AutoCloseable {
  private final Backend backend;
  private final long[] tokens;
  private final long total;
  private Tensor lossSum;
  private int added;

  private GradientAccumulation(Backend backend, long[] tokens) {
    this.backend = Arguments.notNull("backend", backend);
    if (tokens.length == 0) {
      throw new IllegalArgumentException("lossTokens must name at least one micro-batch");
    }
    long sum = 0;
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0) {
        throw new IllegalArgumentException("lossTokens[" + i + "] must be >= 0: " + tokens[i]);
      }
      sum = Math.addExact(sum, tokens[i]);
    }
    if (sum == 0) {
      throw new IllegalArgumentException("no micro-batch has a token that carries a loss: lossTokens " + Arrays.toString(tokens));
    }
    this.tokens = tokens.clone();
    this.total = sum;
  }

  /**
   * Accumulation over micro-batches with these counts of loss-carrying tokens (labels other than the
   * ignore index, after the causal shift), in the order they will run.
   *
   * @throws IllegalArgumentException when there are none, a count is negative, or all are zero
   */
  public static GradientAccumulation over(Backend backend, long... lossTokens) {
    return new GradientAccumulation(backend, lossTokens);
  }

  /** The labels of {@code labels} that are not {@code ignoreIndex}: one micro-batch's count. */
  public static long countLossTokens(int[] labels, int ignoreIndex) {
    long n = 0;
    for (int l : labels) {
      if (l != ignoreIndex) {
        n++;
      }
    }
    return n;
  }

  public int microBatches() {
    return tokens.length;
  }

  /** Loss-carrying tokens of micro-batch {@code i}. */
  public long lossTokens(int i) {
    return tokens[i];
  }

  /** Loss-carrying tokens of all micro-batches: the divisor of the loss. */
  public long totalLossTokens() {
    return total;
  }

  /** {@code 1 / total}, the scale every micro-batch's backward takes. */
  public float gradScale() {
    return (float) (1.0 / total);
  }

  /** {@code lossScale / total}, for fp16 training with a loss scaler. */
  public float gradScale(LossScaler scaler) {
    return (float) (scaler.scale() / (double) total);
  }

  /** Adds one micro-batch's summed loss (an F32 [] device scalar) on the device; the argument is not kept. */
  public void addLossSum(Tensor microBatchLossSum) {
    Arguments.notNull("microBatchLossSum", microBatchLossSum);
    if (microBatchLossSum.shape().rank() != 0 || microBatchLossSum.dtype() != DType.F32) {
      throw new IllegalArgumentException("microBatchLossSum must be an F32 tensor of shape [], as crossEntropySum returns: "
          + microBatchLossSum.shape() + " " + microBatchLossSum.dtype());
    }
    if (added == tokens.length) {
      throw new IllegalStateException("all " + tokens.length + " micro-batch losses were added already");
    }
    if (lossSum == null) {
      lossSum = Scope.detached(() -> backend.zeros(Shape.of(), DType.F32));
    }
    backend.addInPlace(lossSum, microBatchLossSum);
    added++;
  }

  /**
   * The loss of the whole accumulated batch, {@code sum of loss sums / total tokens}: the token-weighted
   * mean of the micro-batch means. Reads from the device (waits for queued work).
   *
   * @throws IllegalStateException before every micro-batch's loss has been added
   */
  public double meanLoss() {
    if (added != tokens.length) {
      throw new IllegalStateException("meanLoss needs all " + tokens.length + " micro-batch losses; " + added + " added");
    }
    return backend.toFloats(lossSum)[0] / (double) total;
  }

  @Override
  public void close() {
    if (lossSum != null) {
      lossSum.close();
    }
  }
}
