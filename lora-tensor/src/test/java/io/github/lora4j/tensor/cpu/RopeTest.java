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
import io.github.lora4j.tensor.testing.RopeContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The rotary-embedding contract on the CPU, and the CPU backend's argument checks. */
class RopeTest extends RopeContract {
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
  void rejectsBadShapes() {
    try (Scope _ = backend.scope()) {
      Tensor pos = backend.fromInts(new int[] {0, 1}, Shape.of(2));
      Tensor inv = backend.zeros(Shape.of(2), DType.F32);
      var odd = assertThrows(IllegalArgumentException.class, () -> backend.ropeInPlace(backend.zeros(Shape.of(2, 1, 5), DType.F32), pos, inv, false));
      assertEquals("rope: x [2, 1, 5] has an odd head dim 5; rotate_half needs an even one", odd.getMessage());
      var rows = assertThrows(IllegalArgumentException.class, () -> backend.ropeInPlace(backend.zeros(Shape.of(3, 1, 4), DType.F32), pos, inv, false));
      assertEquals("rope: positions [2] must have one entry per row of x [3, 1, 4]", rows.getMessage());
      var freq = assertThrows(IllegalArgumentException.class, () -> backend.ropeInPlace(backend.zeros(Shape.of(2, 1, 8), DType.F32), pos, inv, false));
      assertEquals("rope: invFreq [2] must have headDim / 2 = 4 entries for x [2, 1, 8]", freq.getMessage());
      var type = assertThrows(IllegalArgumentException.class, () -> backend.ropeInPlace(backend.zeros(Shape.of(2, 1, 4), DType.F32), inv, inv, false));
      assertEquals("rope: positions must be I32, got F32", type.getMessage());
    }
  }
}
