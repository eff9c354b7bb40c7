package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.EmbeddingContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The embedding contract on the CPU, and the CPU backend's check of the ids. */
class EmbeddingTest extends EmbeddingContract {
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
  void rejectsIdsOutsideTheVocabulary() {
    try (Scope _ = backend.scope()) {
      Tensor table = backend.zeros(Shape.of(4, 2), DType.F32);
      var big = assertThrows(IllegalArgumentException.class, () -> backend.embedding(table, backend.fromInts(new int[] {0, 3, 4}, Shape.of(3))));
      assertEquals("embedding: ids[2] = 4 is outside the vocabulary [0, 4) of table [4, 2]", big.getMessage());
      var neg = assertThrows(IllegalArgumentException.class, () -> backend.embedding(table, backend.fromInts(new int[] {-1}, Shape.of(1))));
      assertEquals("embedding: ids[0] = -1 is outside the vocabulary [0, 4) of table [4, 2]", neg.getMessage());
      var type = assertThrows(IllegalArgumentException.class, () -> backend.embedding(table, backend.zeros(Shape.of(2), DType.F32)));
      assertEquals("embedding: ids must be I32, got F32", type.getMessage());
      assertArrayEquals(new float[4], backend.toFloats(backend.embedding(table, backend.fromInts(new int[] {3, 0}, Shape.of(2)))));
    }
  }
}
