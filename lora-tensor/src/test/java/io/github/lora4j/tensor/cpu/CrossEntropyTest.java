package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.CrossEntropyContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The cross-entropy contract on the CPU, and the CPU backend's check of the labels. */
class CrossEntropyTest extends CrossEntropyContract {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  @Override
  protected DType activationType() {
    return DType.F32;
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
