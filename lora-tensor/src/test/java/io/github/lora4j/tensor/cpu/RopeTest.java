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

class RopeTest {
  /** Two products and a sum per element; fp32 cos/sin of the same fp32 angle are within an ulp or two. */
  static final Tolerance FORWARD = new Tolerance(2e-6, 2e-6);
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

  /** Llama's inverse frequencies, {@code 1 / theta^(2i / headDim)}, in fp32. */
  static float[] invFreq(int headDim, double theta) {
    float[] f = new float[headDim / 2];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
    }
    return f;
  }

  @Example
  void handCheckedTwoPositions() {
    // Head [1, 2, 3, 4]: x1 = [1, 2], x2 = [3, 4]; invFreq [1, 0.5].
    // Position 0 leaves it alone. Position 1 has angles [1, 0.5]:
    //   out1 = x1 cos - x2 sin = [cos 1 - 3 sin 1, 2 cos .5 - 4 sin .5] = [-1.98411065, -0.16253703]
    //   out2 = x2 cos + x1 sin = [3 cos 1 + sin 1, 4 cos .5 + 2 sin .5] = [ 2.46237790,  4.46918132]
    try (Scope _ = backend.scope()) {
      Tensor x = backend.fromFloats(new float[] {1, 2, 3, 4, 1, 2, 3, 4}, Shape.of(2, 1, 4), DType.F32);
      Tensor positions = backend.fromInts(new int[] {0, 1}, Shape.of(2));
      Tensor inv = backend.fromFloats(new float[] {1f, 0.5f}, Shape.of(2), DType.F32);
      backend.ropeInPlace(x, positions, inv, false);
      FORWARD.assertClose("rope", backend.toFloats(x),
          new double[] {1, 2, 3, 4, -1.98411065, -0.16253703, 2.46237790, 4.46918132});
      backend.ropeInPlace(x, positions, inv, true);
      FORWARD.assertClose("rope then inverse", backend.toFloats(x), new double[] {1, 2, 3, 4, 1, 2, 3, 4});
    }
  }

  @Property(tries = 30)
  void forwardMatchesReference(
      @ForAll @IntRange(min = 1, max = 6) int n, @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 8) int halfDim, @ForAll boolean inverse, @ForAll long seed) {
    Random rng = new Random(seed);
    int headDim = 2 * halfDim;
    float[] x = TestArrays.gaussian(rng, n * heads * headDim, 1);
    int[] pos = TestArrays.ints(rng, n, 0, 4096);
    float[] inv = invFreq(headDim, 10000);
    try (Scope _ = backend.scope()) {
      Tensor xt = backend.fromFloats(x, Shape.of(n, heads, headDim), DType.F32);
      backend.ropeInPlace(xt, backend.fromInts(pos, Shape.of(n)), backend.fromFloats(inv, Shape.of(halfDim), DType.F32), inverse);
      FORWARD.assertClose("rope", backend.toFloats(xt), ReferenceOps.rope(TestArrays.toDouble(x), n, heads, headDim, pos, inv, inverse));
    }
  }

  /** The backward of the rotation is the inverse rotation of dOut. */
  @Property(tries = 30)
  void inverseIsTheBackward(
      @ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 4) int halfDim, @ForAll long seed) {
    Random rng = new Random(seed);
    int headDim = 2 * halfDim;
    float[] x = TestArrays.gaussian(rng, n * heads * headDim, 1);
    float[] r = TestArrays.gaussian(rng, x.length, 1);
    int[] pos = TestArrays.ints(rng, n, 0, 512);
    float[] inv = invFreq(headDim, 500000);
    try (Scope _ = backend.scope()) {
      Tensor dx = backend.fromFloats(r, Shape.of(n, heads, headDim), DType.F32);
      backend.ropeInPlace(dx, backend.fromInts(pos, Shape.of(n)), backend.fromFloats(inv, Shape.of(halfDim), DType.F32), true);
      double[] numeric = GradientCheck.numeric(
          GradientCheck.weightedSum(a -> ReferenceOps.rope(a[0], n, heads, headDim, pos, inv, false), TestArrays.toDouble(r)),
          GradientCheck.inputs(x), 0);
      GRADIENT.assertClose("rope backward", backend.toFloats(dx), numeric);
    }
  }

  @Example
  void writesThroughAView() {
    try (Scope _ = backend.scope()) {
      Tensor flat = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(1, 4), DType.F32);
      backend.ropeInPlace(backend.reshape(flat, Shape.of(1, 1, 4)), backend.fromInts(new int[] {1}, Shape.of(1)),
          backend.fromFloats(new float[] {1f, 0.5f}, Shape.of(2), DType.F32), false);
      FORWARD.assertClose("rope through a view", backend.toFloats(flat), new double[] {-1.98411065, -0.16253703, 2.46237790, 4.46918132});
    }
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
