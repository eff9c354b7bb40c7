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
import io.github.lora4j.tensor.testing.OptimizerContract;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The optimizer contract on the CPU, the CPU's argument checks, and steps over tensors larger than one host slice. */
class OptimizerStepsTest extends OptimizerContract {
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

  @Example
  void rejectsStatesOfAnotherSizeOrType() {
    try (Scope _ = backend.scope()) {
      Tensor p = backend.zeros(Shape.of(4), DType.F32);
      Tensor small = backend.zeros(Shape.of(3), DType.F32);
      var e = assertThrows(IllegalArgumentException.class,
          () -> backend.adamwStep(p, p, small, p, null, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001, 1f));
      assertEquals("adamwStep: expAvg [3] must have the 4 elements of param [4]", e.getMessage());
      Tensor ints = backend.fromInts(new int[] {1, 2, 3, 4}, Shape.of(4));
      e = assertThrows(IllegalArgumentException.class, () -> backend.sgdStep(p, ints, null, 0.1, 0, 0, 0, false, true, 1f));
      assertEquals("sgdStep: grad must be F32, got I32", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> backend.sgdStep(p, p, null, 0.1, 0.9, 0, 0, false, true, 1f));
      assertEquals("sgdStep: momentumBuffer must not be null when momentum is 0.9", e.getMessage());
    }
  }

  @Example
  void aStepLargerThanOneHostSliceUpdatesEveryElement() {
    // 64 MiB slices hold 16M floats; 16M + 5 elements take the sliced path for every tensor.
    int n = (int) (HostCopy.CHUNK_BYTES / 4) + 5;
    try (Scope _ = backend.scope()) {
      Tensor p = backend.zeros(Shape.of(n), DType.F32);
      float[] ones = new float[n];
      java.util.Arrays.fill(ones, 1f);
      Tensor g = backend.fromFloats(ones, Shape.of(n), DType.F32);
      backend.sgdStep(p, g, null, 0.5, 0, 0, 0, false, true, 1f);
      float[] got = backend.toFloats(p);
      assertEquals(-0.5f, got[0]);
      assertEquals(-0.5f, got[n - 1], "the last slice is written through");
    }
  }
}
