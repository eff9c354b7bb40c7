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
import io.github.lora4j.tensor.testing.RmsNormContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The RMSNorm contract on the CPU, and the CPU backend's argument checks. */
class RmsNormTest extends RmsNormContract {
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
  void rejectsMismatchedWeight() {
    try (Scope _ = backend.scope()) {
      Tensor x = backend.zeros(Shape.of(2, 4), DType.F32);
      var e = assertThrows(IllegalArgumentException.class, () -> backend.rmsNorm(x, backend.zeros(Shape.of(3), DType.F32), EPS));
      assertEquals("rmsNorm: weight [3] does not match x [2, 4]'s 4 features", e.getMessage());
      var rank = assertThrows(IllegalArgumentException.class, () -> backend.rmsNorm(backend.zeros(Shape.of(2, 2, 4), DType.F32), x, EPS));
      assertEquals("rmsNorm: x must be [N, D], got [2, 2, 4]", rank.getMessage());
      var rstd = assertThrows(IllegalArgumentException.class,
          () -> backend.rmsNormBackward(x, x, backend.zeros(Shape.of(4), DType.F32), backend.zeros(Shape.of(3), DType.F32)));
      assertEquals("rmsNormBackward: rstd must be [2], got [3]", rstd.getMessage());
    }
  }
}
