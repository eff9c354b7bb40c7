package io.github.lora4j.tensor.testing;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code ropeInPlace}, forward and inverse (its backward), with F32 inverse frequencies in every
 * activation type, as transformers keeps {@code inv_freq} (see {@link OpContract}).
 *
 * <p>bf16: {@code x1 cos - x2 sin} computed in fp32 and rounded once is within {@code u |out|}.
 * Rounding cos and sin to bf16 and then the two products, as transformers does in bf16, adds at most
 * {@code 2u (|x1 cos| + |x2 sin|) <= 2 sqrt(2) u max|x|}. So {@code c = 3} per rotation (one output
 * rounding, up to 2.83 from the products, rounded up), {@code S = max |x|}; rotating and rotating
 * back: {@code c = 6}.
 */
public abstract class RopeContract extends OpContract {
  /** Two products and a sum per element; fp32 cos/sin of the same fp32 angle are within an ulp or two. */
  static final Tolerance FORWARD = new Tolerance(2e-6, 2e-6);
  static final Tolerance GRADIENT = new Tolerance(1e-5, 1e-5);

  /** Llama's inverse frequencies, {@code 1 / theta^(2i / headDim)}, in fp32. */
  static float[] invFreq(int headDim, double theta) {
    float[] f = new float[headDim / 2];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
    }
    return f;
  }

  private Tolerance rotated(Tolerance fp32, int rotations, float[] x) {
    return tolerance(fp32, 3 * rotations, TestArrays.maxAbs(x),
        (rotations == 1 ? "one rotation" : rotations + " rotations") + ", cos, sin and the products possibly rounded as in transformers; S = max|x|");
  }

  @Example
  void handCheckedTwoPositions() {
    // Head [1, 2, 3, 4]: x1 = [1, 2], x2 = [3, 4]; invFreq [1, 0.5].
    // Position 0 leaves it alone. Position 1 has angles [1, 0.5]:
    //   out1 = x1 cos - x2 sin = [cos 1 - 3 sin 1, 2 cos .5 - 4 sin .5] = [-1.98411065, -0.16253703]
    //   out2 = x2 cos + x1 sin = [3 cos 1 + sin 1, 4 cos .5 + 2 sin .5] = [ 2.46237790,  4.46918132]
    float[] head = {1, 2, 3, 4, 1, 2, 3, 4};
    try (Scope _ = backend().scope()) {
      Tensor x = upload(head, Shape.of(2, 1, 4));
      Tensor positions = backend().fromInts(new int[] {0, 1}, Shape.of(2));
      Tensor inv = backend().fromFloats(new float[] {1f, 0.5f}, Shape.of(2), DType.F32);
      backend().ropeInPlace(x, positions, inv, false);
      rotated(FORWARD, 1, head).assertClose("rope", download("rope", x),
          new double[] {1, 2, 3, 4, -1.98411065, -0.16253703, 2.46237790, 4.46918132});
      backend().ropeInPlace(x, positions, inv, true);
      rotated(FORWARD, 2, head).assertClose("rope then inverse", download("rope", x), new double[] {1, 2, 3, 4, 1, 2, 3, 4});
    }
  }

  @Property(tries = 30)
  void forwardMatchesReference(
      @ForAll @IntRange(min = 1, max = 6) int n, @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 8) int halfDim, @ForAll boolean inverse, @ForAll long seed) {
    Random rng = new Random(seed);
    int headDim = 2 * halfDim;
    float[] x = stored(TestArrays.gaussian(rng, n * heads * headDim, 1));
    int[] pos = TestArrays.ints(rng, n, 0, 4096);
    float[] inv = invFreq(headDim, 10000);
    try (Scope _ = backend().scope()) {
      Tensor xt = upload(x, Shape.of(n, heads, headDim));
      backend().ropeInPlace(xt, backend().fromInts(pos, Shape.of(n)), backend().fromFloats(inv, Shape.of(halfDim), DType.F32), inverse);
      rotated(FORWARD, 1, x).assertClose("rope", download("rope", xt), ReferenceOps.rope(TestArrays.toDouble(x), n, heads, headDim, pos, inv, inverse));
    }
  }

  /** The backward of the rotation is the inverse rotation of dOut. */
  @Property(tries = 30)
  void inverseIsTheBackward(
      @ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 3) int heads,
      @ForAll @IntRange(min = 1, max = 4) int halfDim, @ForAll long seed) {
    Random rng = new Random(seed);
    int headDim = 2 * halfDim;
    float[] x = stored(TestArrays.gaussian(rng, n * heads * headDim, 1));
    float[] r = stored(TestArrays.gaussian(rng, x.length, 1));
    int[] pos = TestArrays.ints(rng, n, 0, 512);
    float[] inv = invFreq(headDim, 500000);
    try (Scope _ = backend().scope()) {
      Tensor dx = upload(r, Shape.of(n, heads, headDim));
      backend().ropeInPlace(dx, backend().fromInts(pos, Shape.of(n)), backend().fromFloats(inv, Shape.of(halfDim), DType.F32), true);
      double[] numeric = GradientCheck.numeric(
          GradientCheck.weightedSum(a -> ReferenceOps.rope(a[0], n, heads, headDim, pos, inv, false), TestArrays.toDouble(r)),
          GradientCheck.inputs(x), 0);
      rotated(GRADIENT, 1, r).assertClose("rope backward", download("rope backward", dx), numeric);
    }
  }

  @Example
  void writesThroughAView() {
    try (Scope _ = backend().scope()) {
      Tensor flat = upload(new float[] {1, 2, 3, 4}, Shape.of(1, 4));
      backend().ropeInPlace(backend().reshape(flat, Shape.of(1, 1, 4)), backend().fromInts(new int[] {1}, Shape.of(1)),
          backend().fromFloats(new float[] {1f, 0.5f}, Shape.of(2), DType.F32), false);
      rotated(FORWARD, 1, new float[] {4}).assertClose("rope through a view", download("rope", flat),
          new double[] {-1.98411065, -0.16253703, 2.46237790, 4.46918132});
    }
  }
}
