package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** {@code embedding}: a copy of rows, so exact in every type (see {@link OpContract}). */
public abstract class EmbeddingContract extends OpContract {

  @Property(tries = 20)
  void picksRowsExactly(@ForAll @IntRange(min = 1, max = 30) int vocab, @ForAll @IntRange(min = 1, max = 16) int d, @ForAll @IntRange(min = 1, max = 10) int n, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] table = stored(TestArrays.gaussian(rng, vocab * d, 1));
    int[] ids = TestArrays.ints(rng, n, 0, vocab);
    try (Scope _ = backend().scope()) {
      Tensor rows = backend().embedding(upload(table, Shape.of(vocab, d)), backend().fromInts(ids, Shape.of(n)));
      assertEquals(Shape.of(n, d), rows.shape());
      double[] expected = ReferenceOps.embedding(TestArrays.toDouble(table), d, ids);
      float[] got = download("embedding", rows);
      for (int i = 0; i < got.length; i++) {
        assertEquals((float) expected[i], got[i], "element " + i);
      }
    }
  }
}
