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
import io.github.lora4j.tensor.testing.GemmContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The matrix-product contract on the CPU, and the CPU backend's shape checks. */
class GemmTest extends GemmContract {
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
  void rejectsMismatchedOperands() {
    try (Scope _ = backend.scope()) {
      Tensor a = backend.zeros(Shape.of(3, 4), DType.F32);
      Tensor b = backend.zeros(Shape.of(5, 6), DType.F32);
      var inner = assertThrows(IllegalArgumentException.class, () -> backend.matmul(a, false, b, false));
      assertEquals("matmul: inner dims differ: op(a) of a [3, 4] has 4 columns, op(b) of b [5, 6] has 5 rows", inner.getMessage());
      var c = assertThrows(IllegalArgumentException.class, () -> backend.gemm(a, true, a, false, 1f, 0f, backend.zeros(Shape.of(3, 3), DType.F32)));
      assertEquals("gemm: c is [3, 3] but op(a) @ op(b) is [4, 4]", c.getMessage());
      var batch = assertThrows(IllegalArgumentException.class,
          () -> backend.matmul(backend.zeros(Shape.of(2, 3, 4), DType.F32), false, backend.zeros(Shape.of(3, 4, 5), DType.F32), false));
      assertEquals("matmul: batch dims differ: a [2, 3, 4], b [3, 4, 5]", batch.getMessage());
      var rank = assertThrows(IllegalArgumentException.class, () -> backend.matmul(a, false, backend.zeros(Shape.of(1, 4, 5), DType.F32), false));
      assertEquals("matmul: a [3, 4] and b [1, 4, 5] must have the same rank", rank.getMessage());
      var lin = assertThrows(IllegalArgumentException.class, () -> backend.linear(a, b, null));
      assertEquals("linear: x [3, 4] has 4 input features but weight [5, 6] has 6", lin.getMessage());
      var bias = assertThrows(IllegalArgumentException.class, () -> backend.linear(a, backend.zeros(Shape.of(2, 4), DType.F32), backend.zeros(Shape.of(3), DType.F32)));
      assertEquals("linear: bias [3] does not match weight [2, 4]'s 2 outputs", bias.getMessage());
    }
  }
}
