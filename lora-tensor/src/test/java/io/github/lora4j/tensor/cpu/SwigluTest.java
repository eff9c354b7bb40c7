package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.testing.SwigluContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The SwiGLU contract on the CPU, and the CPU backend's argument checks. */
class SwigluTest extends SwigluContract {
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
  void rejectsMismatchedShapes() {
    try (Scope _ = backend.scope()) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> backend.swiglu(backend.zeros(Shape.of(2, 3), DType.F32), backend.zeros(Shape.of(2, 4), DType.F32)));
      assertEquals("swiglu: gate [2, 3] and up [2, 4] must have the same shape", e.getMessage());
    }
  }
}
