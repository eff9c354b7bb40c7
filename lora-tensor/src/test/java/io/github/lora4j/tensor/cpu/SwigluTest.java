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
import io.github.lora4j.tensor.testing.GradientCheck;
import io.github.lora4j.tensor.testing.ReferenceOps;
import io.github.lora4j.tensor.testing.TestArrays;
import io.github.lora4j.tensor.testing.Tolerance;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class SwigluTest {
  /** A sigmoid and two products per element, each within an ulp or two. */
  static final Tolerance FORWARD = new Tolerance(1e-6, 1e-6);
  static final Tolerance GRADIENT = new Tolerance(1e-5, 1e-5);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Property(tries = 30)
  void forwardAndBackwardMatchReference(@ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 24) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] gate = TestArrays.gaussian(rng, n * d, 3);
    float[] up = TestArrays.gaussian(rng, n * d, 1);
    float[] r = TestArrays.gaussian(rng, n * d, 1);
    try (Scope _ = backend.scope()) {
      Tensor g = backend.fromFloats(gate, Shape.of(n, d), DType.F32);
      Tensor u = backend.fromFloats(up, Shape.of(n, d), DType.F32);
      double[][] in = GradientCheck.inputs(gate, up);
      FORWARD.assertClose("swiglu", backend.toFloats(backend.swiglu(g, u)), ReferenceOps.swiglu(in[0], in[1]));
      Tensor[] grads = backend.swigluBackward(backend.fromFloats(r, Shape.of(n, d), DType.F32), g, u);
      var loss = GradientCheck.weightedSum(a -> ReferenceOps.swiglu(a[0], a[1]), TestArrays.toDouble(r));
      GRADIENT.assertClose("swiglu dGate", backend.toFloats(grads[0]), GradientCheck.numeric(loss, in, 0));
      GRADIENT.assertClose("swiglu dUp", backend.toFloats(grads[1]), GradientCheck.numeric(loss, in, 1));
    }
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
