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
import io.github.lora4j.tensor.testing.ReferenceOps;
import io.github.lora4j.tensor.testing.TestArrays;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class EmbeddingTest {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Property(tries = 20)
  void picksRowsExactly(@ForAll @IntRange(min = 1, max = 30) int vocab, @ForAll @IntRange(min = 1, max = 16) int d, @ForAll @IntRange(min = 1, max = 10) int n, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] table = TestArrays.gaussian(rng, vocab * d, 1);
    int[] ids = TestArrays.ints(rng, n, 0, vocab);
    try (Scope _ = backend.scope()) {
      Tensor rows = backend.embedding(backend.fromFloats(table, Shape.of(vocab, d), DType.F32), backend.fromInts(ids, Shape.of(n)));
      assertEquals(Shape.of(n, d), rows.shape());
      double[] expected = ReferenceOps.embedding(TestArrays.toDouble(table), d, ids);
      float[] got = backend.toFloats(rows);
      for (int i = 0; i < got.length; i++) {
        assertEquals((float) expected[i], got[i], "element " + i);
      }
    }
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
