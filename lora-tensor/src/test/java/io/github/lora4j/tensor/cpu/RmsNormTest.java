package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.NormOutput;
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

class RmsNormTest {
  /** fp32 mean of at most 64 squares, a sqrt, a division and two products on O(1) values: a few 1e-6 at worst. */
  static final Tolerance FORWARD = new Tolerance(1e-5, 1e-5);
  /** The backward sums D products per row in fp32; against a double finite difference. */
  static final Tolerance GRADIENT = new Tolerance(5e-5, 1e-4);
  static final float EPS = 1e-5f;

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
  void forwardMatchesReference(@ForAll @IntRange(min = 1, max = 5) int n, @ForAll @IntRange(min = 1, max = 64) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = TestArrays.gaussian(rng, n * d, 2);
    float[] w = TestArrays.uniform(rng, d, 0.5f, 1.5f);
    try (Scope _ = backend.scope()) {
      NormOutput out = backend.rmsNorm(backend.fromFloats(x, Shape.of(n, d), DType.F32), backend.fromFloats(w, Shape.of(d), DType.F32), EPS);
      double[][] in = GradientCheck.inputs(x, w);
      FORWARD.assertClose("rmsNorm out", backend.toFloats(out.out()), ReferenceOps.rmsNorm(in[0], n, d, in[1], EPS));
      assertEquals(Shape.of(n), out.rstd().shape());
      FORWARD.assertClose("rmsNorm rstd", backend.toFloats(out.rstd()), ReferenceOps.rmsNormRstd(in[0], n, d, EPS));
    }
  }

  @Property(tries = 30)
  void backwardMatchesFiniteDifferences(@ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 32) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] x = TestArrays.gaussian(rng, n * d, 1);
    float[] w = TestArrays.uniform(rng, d, 0.5f, 1.5f);
    float[] r = TestArrays.gaussian(rng, n * d, 1);
    try (Scope _ = backend.scope()) {
      Tensor xt = backend.fromFloats(x, Shape.of(n, d), DType.F32);
      Tensor wt = backend.fromFloats(w, Shape.of(d), DType.F32);
      NormOutput out = backend.rmsNorm(xt, wt, EPS);
      Tensor dx = backend.rmsNormBackward(backend.fromFloats(r, Shape.of(n, d), DType.F32), xt, wt, out.rstd());
      double[][] in = GradientCheck.inputs(x, w);
      double[] numeric = GradientCheck.numeric(GradientCheck.weightedSum(a -> ReferenceOps.rmsNorm(a[0], n, d, a[1], EPS), TestArrays.toDouble(r)), in, 0);
      GRADIENT.assertClose("rmsNormBackward dx", backend.toFloats(dx), numeric);
    }
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
