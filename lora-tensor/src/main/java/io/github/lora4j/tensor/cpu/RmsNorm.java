package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * RMSNorm as transformers' {@code LlamaRMSNorm}: {@code weight * (x * rsqrt(mean(x^2) + eps))} per
 * row, and its gradient with respect to x.
 */
final class RmsNorm {
  private RmsNorm() {}

  private static final int[] LAST = {1};

  static NormOutput forward(CpuBackend backend, Tensor x, Tensor weight, float eps) {
    check(backend, "rmsNorm", x, weight);
    int n = x.dim(0);
    try (OpFrame f = backend.frame()) {
      NDArray xa = f.in(x);
      // rsqrt as 1 / sqrt, which is how PyTorch's vectorised CPU rsqrt computes it.
      NDArray rstd = NDArrays.div(1f, xa.square().mean(LAST, true).add(eps).sqrt());
      NDArray out = f.in(weight).mul(xa.mul(rstd));
      return new NormOutput(f.out(out, x.shape(), DType.F32), f.out(rstd, Shape.of(n), DType.F32));
    }
  }

  /**
   * With {@code g = dOut * weight} and {@code r = rstd}: {@code y_j = w_j x_j r} and {@code dr/dx_j =
   * -r^3 x_j / D}, so {@code dx = r g - x r^3 sum(g x) / D}.
   */
  static Tensor backward(CpuBackend backend, Tensor dOut, Tensor x, Tensor weight, Tensor rstd) {
    String op = "rmsNormBackward";
    check(backend, op, x, weight);
    OpArgs.tensor(backend, op, "dOut", dOut);
    OpArgs.floatType(op, "dOut", dOut);
    OpArgs.sameShape(op, "dOut", dOut, "x", x);
    OpArgs.tensor(backend, op, "rstd", rstd);
    OpArgs.floatType(op, "rstd", rstd);
    OpArgs.shape(op, "rstd", rstd, Shape.of(x.dim(0)));
    int d = x.dim(1);
    try (OpFrame f = backend.frame()) {
      NDArray xa = f.in(x);
      NDArray r = f.in(rstd).reshape(x.dim(0), 1);
      NDArray g = f.in(dOut).mul(f.in(weight));
      NDArray coef = g.mul(xa).sum(LAST, true).mul(r.mul(r).mul(r)).div((float) d);
      return f.out(g.mul(r).sub(xa.mul(coef)), x.shape(), DType.F32);
    }
  }

  private static void check(CpuBackend backend, String op, Tensor x, Tensor weight) {
    OpArgs.tensor(backend, op, "x", x, "[N, D]");
    OpArgs.tensor(backend, op, "weight", weight, "[D]");
    OpArgs.floatType(op, "x", x);
    OpArgs.floatType(op, "weight", weight);
    if (weight.dim(0) != x.dim(1)) {
      throw OpArgs.error(op, "weight %s does not match x %s's %d features", weight.shape(), x.shape(), x.dim(1));
    }
  }
}
