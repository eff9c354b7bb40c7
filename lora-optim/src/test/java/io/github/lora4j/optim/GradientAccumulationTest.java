package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.TestArrays;
import io.github.lora4j.tensor.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Accumulating k micro-batches with {@link GradientAccumulation} is the same as one batch of all
 * their rows, on a tiny model built from Backend ops: a linear layer {@code logits = x W^T} and the
 * cross-entropy over labels with -100 for padding and prompts, so that micro-batches carry uneven
 * numbers of loss tokens.
 */
class GradientAccumulationTest {
  private static final int IGNORE = -100;
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** One micro-batch: inputs [rows, d] and labels [rows], -100 where the row carries no loss. */
  record MicroBatch(float[] x, int[] labels) {
    int rows() {
      return labels.length;
    }
  }

  static List<MicroBatch> microBatches(Random rng, int k, int d, int vocab) {
    List<MicroBatch> batches = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      int rows = 1 + rng.nextInt(7);
      int[] labels = TestArrays.ints(rng, rows, 0, vocab);
      // A prompt at the front and padding at the back, of random lengths: uneven counts, and now and then none.
      int prompt = rng.nextInt(rows + 1);
      int padding = rng.nextInt(rows + 1 - prompt);
      for (int r = 0; r < prompt; r++) {
        labels[r] = IGNORE;
      }
      for (int r = rows - padding; r < rows; r++) {
        labels[r] = IGNORE;
      }
      batches.add(new MicroBatch(TestArrays.gaussian(rng, rows * d, 1), labels));
    }
    if (batches.stream().allMatch(b -> GradientAccumulation.countLossTokens(b.labels(), IGNORE) == 0)) {
      batches.getFirst().labels()[0] = 0;
    }
    return batches;
  }

  /** The gradient of the weight for {@code scale * crossEntropySum}, added into {@code grad}; returns the loss sum. */
  static Tensor forwardBackward(Tensor w, MicroBatch b, float scale, Tensor grad) {
    int d = w.dim(1);
    Tensor x = backend.fromFloats(b.x(), Shape.of(b.rows(), d), DType.F32);
    Tensor labels = backend.fromInts(b.labels(), Shape.of(b.rows()));
    Tensor logits = backend.matmul(x, false, w, true);
    Tensor dLogits = backend.crossEntropyBackward(logits, labels, IGNORE, scale);
    backend.gemm(dLogits, true, x, false, 1f, 1f, grad);
    return backend.crossEntropySum(logits, labels, IGNORE);
  }

  static MicroBatch concat(List<MicroBatch> batches, int d) {
    int rows = batches.stream().mapToInt(MicroBatch::rows).sum();
    float[] x = new float[rows * d];
    int[] labels = new int[rows];
    int at = 0;
    for (MicroBatch b : batches) {
      System.arraycopy(b.x(), 0, x, at * d, b.rows() * d);
      System.arraycopy(b.labels(), 0, labels, at, b.rows());
      at += b.rows();
    }
    return new MicroBatch(x, labels);
  }

  @Property(tries = 60)
  void accumulatedGradientsEqualTheFullBatch(@ForAll @IntRange(min = 1, max = 5) int k, @ForAll @IntRange(min = 1, max = 8) int d,
      @ForAll @IntRange(min = 2, max = 12) int vocab, @ForAll long seed) {
    Random rng = new Random(seed);
    List<MicroBatch> batches = microBatches(rng, k, d, vocab);
    long[] counts = batches.stream().mapToLong(b -> GradientAccumulation.countLossTokens(b.labels(), IGNORE)).toArray();
    try (Scope _ = backend.scope()) {
      Tensor w = backend.fromFloats(TestArrays.gaussian(rng, vocab * d, 1), Shape.of(vocab, d), DType.F32);
      MicroBatch all = concat(batches, d);
      long total = GradientAccumulation.countLossTokens(all.labels(), IGNORE);
      Tensor fullGrad = backend.zeros(Shape.of(vocab, d), DType.F32);
      double fullLoss = backend.toFloats(forwardBackward(w, all, (float) (1.0 / total), fullGrad))[0] / total;

      Tensor grad = backend.zeros(Shape.of(vocab, d), DType.F32);
      double weighted = 0;
      try (GradientAccumulation acc = GradientAccumulation.over(backend, counts)) {
        assertEquals(total, acc.totalLossTokens());
        for (MicroBatch b : batches) {
          Tensor lossSum = forwardBackward(w, b, acc.gradScale(), grad);
          acc.addLossSum(lossSum);
          long n = GradientAccumulation.countLossTokens(b.labels(), IGNORE);
          if (n > 0) {
            weighted += backend.toFloats(lossSum)[0] / n * n;
          }
        }
        double mean = acc.meanLoss();
        // A token's cross-entropy is logsumexp minus its label's logit, accurate to a few ulps of the
        // logits (|logit| < 10 here), not of the result, which may be near 0: an absolute bound too.
        String why = "fp32 sums of at most 35 terms in another order, each term to ~1e-6 absolute";
        new Tolerance(1e-6, 1e-6, why).assertClose("logged loss vs the full batch's mean", mean, fullLoss);
        new Tolerance(1e-6, 1e-6, why).assertClose("logged loss vs the token-weighted mean of micro-batch means", mean, weighted / total);
      }
      float[] expected = backend.toFloats(fullGrad);
      // dW sums (softmax - onehot) * x / total over rows. The logits of a micro-batch come from a
      // matmul of another shape (other kernel, other rounding), and softmax - 1 for a well-predicted
      // label cancels: each term is accurate to a few ulps of |x| / total, not of itself.
      double xScale = batches.stream().mapToDouble(b -> TestArrays.maxAbs(b.x())).max().orElse(1) / total;
      new Tolerance(1e-6 * Math.max(TestArrays.maxAbs(expected), xScale), 1e-6, "the same rows summed in another order, from logits of another matmul")
          .assertClose("accumulated dW over " + k + " micro-batches with loss tokens " + java.util.Arrays.toString(counts), backend.toFloats(grad), expected);
    }
  }

  @Example
  void averagingMicroBatchMeansIsNotTheBatchLoss() {
    // 1 loss token and 7 loss tokens: the mean of means weights the single token seven times too much.
    Random rng = new Random(3);
    int d = 4;
    int vocab = 5;
    MicroBatch small = new MicroBatch(TestArrays.gaussian(rng, 8 * d, 1), new int[] {IGNORE, IGNORE, IGNORE, 2, IGNORE, IGNORE, IGNORE, IGNORE});
    MicroBatch large = new MicroBatch(TestArrays.gaussian(rng, 8 * d, 1), new int[] {IGNORE, 1, 2, 3, 4, 0, 1, 2});
    try (Scope _ = backend.scope()) {
      Tensor w = backend.fromFloats(TestArrays.gaussian(rng, vocab * d, 2), Shape.of(vocab, d), DType.F32);
      Tensor scratch = backend.zeros(Shape.of(vocab, d), DType.F32);
      double smallSum = backend.toFloats(forwardBackward(w, small, 1f, scratch))[0];
      double largeSum = backend.toFloats(forwardBackward(w, large, 1f, scratch))[0];
      double naive = (smallSum / 1 + largeSum / 7) / 2;
      try (GradientAccumulation acc = GradientAccumulation.over(backend, 1, 7)) {
        acc.addLossSum(forwardBackward(w, small, acc.gradScale(), scratch));
        acc.addLossSum(forwardBackward(w, large, acc.gradScale(), scratch));
        assertEquals((smallSum + largeSum) / 8, acc.meanLoss(), 1e-6 * acc.meanLoss());
        assertTrue(Math.abs(naive - acc.meanLoss()) > 1e-2, "the naive mean of means " + naive + " vs the batch loss " + acc.meanLoss());
      }
    }
  }

  @Example
  void rejectsCountsWithoutLoss() {
    var e = assertThrows(IllegalArgumentException.class, () -> GradientAccumulation.over(backend, 0, 0));
    assertEquals("no micro-batch has a token that carries a loss: lossTokens [0, 0]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> GradientAccumulation.over(backend, 3, -1));
    assertEquals("lossTokens[1] must be >= 0: -1", e.getMessage());
    try (GradientAccumulation acc = GradientAccumulation.over(backend, 2)) {
      assertEquals(0.5f, acc.gradScale());
      assertEquals(65536f / 2, acc.gradScale(LossScaler.dynamic()));
      assertThrows(IllegalStateException.class, acc::meanLoss, "no loss added yet");
    }
  }
}
