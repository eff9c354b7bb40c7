package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.DropoutMask;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.DropoutContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The dropout contract on the CPU, the mask hash's known values, and the CPU backend's check of p. */
class DropoutTest extends DropoutContract {
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

  /** Known draws, for checking another implementation of the hash (the CUDA kernel) against this one. */
  @Example
  void maskHashHasKnownValues() {
    assertEquals(3184996902L, DropoutMask.draw(42, 0));
    assertEquals(686809907L, DropoutMask.draw(42, 1));
    assertEquals(1196582743L, DropoutMask.draw(42, 2));
    assertEquals(1478287871L, DropoutMask.draw(42, 3));
    assertEquals(429496736L, DropoutMask.threshold(0.1f));
  }

  @Example
  void rejectsBadProbabilities() {
    try (Scope _ = backend.scope()) {
      Tensor x = backend.zeros(Shape.of(2), DType.F32);
      var e = assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, 1f, 0));
      assertEquals("dropout: p must be in [0, 1): 1.0", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, Float.NaN, 0));
      assertThrows(IllegalArgumentException.class, () -> backend.dropout(x, -0.1f, 0));
    }
  }
}
