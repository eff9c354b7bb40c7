package io.github.lora4j.tensor.testing;

import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@code swiglu} and {@code swigluBackward} (see {@link OpContract}).
 *
 * <p>bf16: every value is a product, so each rounding is relative to the result. Forward: {@code
 * silu(gate)} may be rounded before the product (transformers' bf16 {@code act_fn(gate) * up} does)
 * and the product is: {@code c = 3}. Backward: {@code dOut * up} (for dGate) or {@code dOut *
 * silu(gate)} (for dUp) may be rounded before the last product, which is: {@code c = 3}. {@code S}
 * is the largest expected value.
 */
public abstract class SwigluContract extends OpContract {
  /** A sigmoid and two products per element, each within an ulp or two. */
  static final Tolerance FORWARD = new Tolerance(1e-6, 1e-6);
  static final Tolerance GRADIENT = new Tolerance(1e-5, 1e-5);

  @Property(tries = 30)
  void forwardAndBackwardMatchReference(@ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 1, max = 24) int d, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] gate = stored(TestArrays.gaussian(rng, n * d, 3));
    float[] up = stored(TestArrays.gaussian(rng, n * d, 1));
    float[] r = stored(TestArrays.gaussian(rng, n * d, 1));
    try (Scope _ = backend().scope()) {
      Tensor g = upload(gate, Shape.of(n, d));
      Tensor u = upload(up, Shape.of(n, d));
      double[][] in = GradientCheck.inputs(gate, up);
      double[] expected = ReferenceOps.swiglu(in[0], in[1]);
      tolerance(FORWARD, 3, TestArrays.maxAbs(expected), "silu(gate) rounded, then silu(gate) * up rounded")
          .assertClose("swiglu", download("swiglu", backend().swiglu(g, u)), expected);
      Tensor[] grads = backend().swigluBackward(upload(r, Shape.of(n, d)), g, u);
      var loss = GradientCheck.weightedSum(a -> ReferenceOps.swiglu(a[0], a[1]), TestArrays.toDouble(r));
      double[] dGate = GradientCheck.numeric(loss, in, 0);
      double[] dUp = GradientCheck.numeric(loss, in, 1);
      tolerance(GRADIENT, 3, TestArrays.maxAbs(dGate), "dOut * up rounded, then times silu'(gate) rounded")
          .assertClose("swiglu dGate", download("swiglu dGate", grads[0]), dGate);
      tolerance(GRADIENT, 3, TestArrays.maxAbs(dUp), "silu(gate) rounded, then dOut * silu(gate) rounded")
          .assertClose("swiglu dUp", download("swiglu dUp", grads[1]), dUp);
    }
  }
}
