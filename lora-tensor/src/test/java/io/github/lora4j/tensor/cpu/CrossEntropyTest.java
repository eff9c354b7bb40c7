package io.github.lora4j.tensor.cpu;

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
import io.github.lora4j.tensor.testing.GradientCheck;
import io.github.lora4j.tensor.testing.ReferenceOps;
import io.github.lora4j.tensor.testing.TestArrays;
import io.github.lora4j.tensor.testing.Tolerance;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class CrossEntropyTest {
  static final int IGNORE = -100;
  /** A log-softmax over <= 64 logits of size ~3 per row and a sum of <= 8 rows, in fp32. */
  static final Tolerance LOSS = new Tolerance(1e-5, 1e-5);
  static final Tolerance GRADIENT = new Tolerance(1e-6, 1e-4);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

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
    float[] logits = TestArrays.gaussian(rng, n * v, 3);
    int[] labels = labels(rng, n, v);
    float scale = 0.1f + rng.nextFloat();
    try (Scope _ = backend.scope()) {
      Tensor lt = backend.fromFloats(logits, Shape.of(n, v), DType.F32);
      Tensor lab = backend.fromInts(labels, Shape.of(n));
      Tensor loss = backend.crossEntropySum(lt, lab, IGNORE);
      assertEquals(Shape.of(), loss.shape());
      double[][] in = GradientCheck.inputs(logits);
      LOSS.assertClose("cross-entropy sum", backend.toFloats(loss)[0], ReferenceOps.crossEntropySum(in[0], n, v, labels, IGNORE));

      float[] grad = backend.toFloats(backend.crossEntropyBackward(lt, lab, IGNORE, scale));
      double[] numeric = GradientCheck.numeric(a -> scale * ReferenceOps.crossEntropySum(a[0], n, v, labels, IGNORE), in, 0);
      GRADIENT.assertClose("cross-entropy gradient", grad, numeric);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < v && labels[i] == IGNORE; j++) {
          assertEquals(0f, grad[i * v + j], "ignored row " + i);
        }
      }
    }
  }

  @Example
  void allRowsIgnoredGivesZero() {
    try (Scope _ = backend.scope()) {
      Tensor logits = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(2, 2), DType.F32);
      Tensor labels = backend.fromInts(new int[] {IGNORE, IGNORE}, Shape.of(2));
      assertEquals(0f, backend.toFloats(backend.crossEntropySum(logits, labels, IGNORE))[0]);
    }
  }

  @Example
  void nanInACountedRowGivesNanLossAndInAnIgnoredRowNothing() {
    try (Scope _ = backend.scope()) {
      Tensor logits = backend.fromFloats(new float[] {1, Float.NaN, 3, 0.5f, -1, 2}, Shape.of(2, 3), DType.F32);
      float counted = backend.toFloats(backend.crossEntropySum(logits, backend.fromInts(new int[] {0, 2}, Shape.of(2)), IGNORE))[0];
      assertTrue(Float.isNaN(counted), "a NaN logit in a counted row makes the loss NaN: " + counted);
      Tensor ignoreFirst = backend.fromInts(new int[] {IGNORE, 2}, Shape.of(2));
      float loss = backend.toFloats(backend.crossEntropySum(logits, ignoreFirst, IGNORE))[0];
      LOSS.assertClose("loss without the NaN row", loss, ReferenceOps.crossEntropySum(new double[] {0.5, -1, 2}, 1, 3, new int[] {2}, IGNORE));
      float[] grad = backend.toFloats(backend.crossEntropyBackward(logits, ignoreFirst, IGNORE, 1f));
      for (int j = 0; j < 3; j++) {
        assertEquals(0f, grad[j], "the ignored NaN row's gradient is zero");
        assertTrue(Float.isFinite(grad[3 + j]));
      }
    }
  }

  @Example
  void rejectsLabelsOutsideTheVocabulary() {
    try (Scope _ = backend.scope()) {
      Tensor logits = backend.zeros(Shape.of(3, 5), DType.F32);
      var e = assertThrows(IllegalArgumentException.class,
          () -> backend.crossEntropySum(logits, backend.fromInts(new int[] {0, 7, IGNORE}, Shape.of(3)), IGNORE));
      assertEquals("crossEntropySum: labels[1] = 7 is neither in [0, 5) nor the ignore index -100", e.getMessage());
      var neg = assertThrows(IllegalArgumentException.class,
          () -> backend.crossEntropyBackward(logits, backend.fromInts(new int[] {0, -1, 4}, Shape.of(3)), IGNORE, 1f));
      assertEquals("crossEntropyBackward: labels[1] = -1 is neither in [0, 5) nor the ignore index -100", neg.getMessage());
      var rows = assertThrows(IllegalArgumentException.class,
          () -> backend.crossEntropySum(logits, backend.fromInts(new int[] {0, 1}, Shape.of(2)), IGNORE));
      assertEquals("crossEntropySum: labels [2] must have one entry per row of logits [3, 5]", rows.getMessage());
      var type = assertThrows(IllegalArgumentException.class, () -> backend.crossEntropySum(logits, backend.zeros(Shape.of(3), DType.F32), IGNORE));
      assertEquals("crossEntropySum: labels must be I32, got F32", type.getMessage());
    }
  }
}
