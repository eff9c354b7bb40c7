package io.github.lora4j.tensor.testing;

import java.util.function.Function;

/**
 * Finite-difference gradients in double precision, to check a backend's backward ops against the
 * derivative of a plain-Java reference forward.
 *
 * <p>The scalar checked is {@code L = sum(out * r)} for a fixed random {@code r} ({@link
 * #weightedSum}), whose gradient with respect to the output is {@code r}: so a backward op fed
 * {@code dOut = r} must return {@code dL/dInput}. Central differences with step {@code h} have
 * truncation error {@code O(h^2)} and rounding error about {@code 1e-16 |L| / h}; with {@code h =
 * 1e-4} and {@code |L| < 1e3} both stay below 1e-7, far under the fp32 error of the backend being
 * checked.
 *
 * <pre>{@code
 * double[] numeric = GradientCheck.numeric(GradientCheck.weightedSum(in -> ReferenceOps.swiglu(in[0], in[1]), r), inputs, 0);
 * tolerance.assertClose("dGate", backend.toFloats(grads[0]), numeric);
 * }</pre>
 */
public final class GradientCheck {
  private GradientCheck() {}

  /** The default finite-difference step. */
  public static final double STEP = 1e-4;

  /** A scalar function of several input arrays, evaluated in double. */
  @FunctionalInterface
  public interface Loss {
    double value(double[][] inputs);
  }

  /** {@code L(inputs) = sum(op(inputs) * r)}. */
  public static Loss weightedSum(Function<double[][], double[]> op, double[] r) {
    return inputs -> {
      double[] out = op.apply(inputs);
      if (out.length != r.length) {
        throw new IllegalArgumentException("op returned " + out.length + " values but r has " + r.length);
      }
      double sum = 0;
      for (int i = 0; i < out.length; i++) {
        sum += out[i] * r[i];
      }
      return sum;
    };
  }

  /** {@code dL / d inputs[which]} by central differences with {@link #STEP}. */
  public static double[] numeric(Loss loss, double[][] inputs, int which) {
    return numeric(loss, inputs, which, STEP);
  }

  /** {@code dL / d inputs[which]} by central differences with step {@code h}; {@code inputs} is left unchanged. */
  public static double[] numeric(Loss loss, double[][] inputs, int which, double h) {
    double[] x = inputs[which];
    double[] grad = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double saved = x[i];
      x[i] = saved + h;
      double plus = loss.value(inputs);
      x[i] = saved - h;
      double minus = loss.value(inputs);
      x[i] = saved;
      grad[i] = (plus - minus) / (2 * h);
    }
    return grad;
  }

  /** Copies of the given float arrays as doubles, the form {@link Loss} takes. */
  public static double[][] inputs(float[]... arrays) {
    double[][] in = new double[arrays.length][];
    for (int i = 0; i < arrays.length; i++) {
      in[i] = TestArrays.toDouble(arrays[i]);
    }
    return in;
  }
}
