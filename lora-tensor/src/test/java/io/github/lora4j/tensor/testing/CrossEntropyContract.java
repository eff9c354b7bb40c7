package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code crossEntropySum} and {@code crossEntropyBackward} (see {@link OpContract}).
 *
 * <p>bf16: the loss is an F32 sum of fp32 log-softmaxes of the stored logits, so it keeps the fp32
 * tolerance. The gradient {@code scale (softmax - onehot)} is computed in fp32 and rounded once:
 * {@code c = 2}, {@code S = max |gradient|}.
 */
public abstract class CrossEntropyContract extends OpContract {
  protected static final int IGNORE = -100;
  /** A log-softmax over <= 64 logits of size ~3 per row and a sum of <= 8 rows, in fp32. */
  static final Tolerance LOSS = new Tolerance(1e-5, 1e-5);
  static final Tolerance GRADIENT = new Tolerance(1e-6, 1e-4);

  /** Labels in [0, v), about a third of them the ignore index. */
  static int[] labels(Random rng, int n, int v) {
    int[] labels = TestArrays.ints(rng, n, 0, v);
    for (int i = 0; i < n; i++) {
      if (rng.nextInt(3) == 0) {
        labels[i] = IGNORE;
      }
    }
    return labels;
  }

  @Property(tries = 40)
  void lossAndGradientMatchReference(@ForAll @IntRange(min = 1, max = 8) int n, @ForAll @IntRange(min = 2, max = 64) int v, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] logits = stored(TestArrays.gaussian(rng, n * v, 3));
    int[] labels = labels(rng, n, v);
    float scale = 0.1f + rng.nextFloat();
    try (Scope _ = backend().scope()) {
      Tensor lt = upload(logits, Shape.of(n, v));
      Tensor lab = backend().fromInts(labels, Shape.of(n));
      Tensor loss = backend().crossEntropySum(lt, lab, IGNORE);
      assertEquals(Shape.of(), loss.shape());
      assertEquals(DType.F32, loss.dtype());
      double[][] in = GradientCheck.inputs(logits);
      LOSS.assertClose("cross-entropy sum (F32 in every activation type)", backend().toFloats(loss)[0],
          ReferenceOps.crossEntropySum(in[0], n, v, labels, IGNORE));

      float[] grad = download("cross-entropy gradient", backend().crossEntropyBackward(lt, lab, IGNORE, scale));
      double[] numeric = GradientCheck.numeric(a -> scale * ReferenceOps.crossEntropySum(a[0], n, v, labels, IGNORE), in, 0);
      tolerance(GRADIENT, 2, TestArrays.maxAbs(numeric), "scale (softmax - onehot) rounded once").assertClose("cross-entropy gradient", grad, numeric);
      for (int i = 0; i < n; i++) {
        // Zeros of either sign.
        for (int j = 0; j < v && labels[i] == IGNORE; j++) {
          assertEquals(0f, grad[i * v + j], 0f, "ignored row " + i);
        }
      }
    }
  }

  @Example
  void allRowsIgnoredGivesZero() {
    try (Scope _ = backend().scope()) {
      Tensor logits = upload(new float[] {1, 2, 3, 4}, Shape.of(2, 2));
      Tensor labels = backend().fromInts(new int[] {IGNORE, IGNORE}, Shape.of(2));
      assertEquals(0f, backend().toFloats(backend().crossEntropySum(logits, labels, IGNORE))[0], 0f);
    }
  }

  @Example
  void nanInACountedRowGivesNanLossAndInAnIgnoredRowNothing() {
    try (Scope _ = backend().scope()) {
      Tensor logits = upload(new float[] {1, Float.NaN, 3, 0.5f, -1, 2}, Shape.of(2, 3));
      float counted = backend().toFloats(backend().crossEntropySum(logits, backend().fromInts(new int[] {0, 2}, Shape.of(2)), IGNORE))[0];
      assertTrue(Float.isNaN(counted), "a NaN logit in a counted row makes the loss NaN: " + counted);
      Tensor ignoreFirst = backend().fromInts(new int[] {IGNORE, 2}, Shape.of(2));
      float loss = backend().toFloats(backend().crossEntropySum(logits, ignoreFirst, IGNORE))[0];
      LOSS.assertClose("loss without the NaN row", loss, ReferenceOps.crossEntropySum(new double[] {0.5, -1, 2}, 1, 3, new int[] {2}, IGNORE));
      float[] grad = download("cross-entropy gradient", backend().crossEntropyBackward(logits, ignoreFirst, IGNORE, 1f));
      for (int j = 0; j < 3; j++) {
        assertEquals(0f, grad[j], 0f, "the ignored NaN row's gradient is zero");
        assertTrue(Float.isFinite(grad[3 + j]));
      }
    }
  }
}
