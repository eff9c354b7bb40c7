package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.List;

/** The global norm of several tensors ({@link Backend#sumOfSquares(List)}) and clipping by it ({@link Backend#clipByNormInPlace}). */
final class GlobalNorm {
  private GlobalNorm() {}

  /** torch's {@code clip_grad_norm_} adds this to the norm before dividing. */
  static final float CLIP_EPSILON = 1e-6f;

  static Tensor sumOfSquares(CpuBackend backend, List<? extends Tensor> xs) {
    String op = "sumOfSquares";
    if (xs == null) {
      throw OpArgs.error(op, "xs must not be null");
    }
    try (OpFrame f = backend.frame()) {
      NDArray total = f.zeros(Shape.of(), CpuBackend.djlType(DType.F32));
      for (int i = 0; i < xs.size(); i++) {
        Tensor x = xs.get(i);
        OpArgs.tensor(backend, op, "xs[" + i + "]", x);
        OpArgs.floatType(op, "xs[" + i + "]", x);
        total = total.add(f.in(x).square().sum());
      }
      return f.out(total, Shape.of(), DType.F32);
    }
  }

  static void clipInPlace(CpuBackend backend, List<? extends Tensor> xs, Tensor sumOfSquares, float maxNorm) {
    String op = "clipByNormInPlace";
    OpArgs.tensor(backend, op, "sumOfSquares", sumOfSquares);
    OpArgs.dtype(op, "sumOfSquares", sumOfSquares, DType.F32);
    if (sumOfSquares.numel() != 1) {
      throw OpArgs.error(op, "sumOfSquares must be a scalar, got %s", sumOfSquares.shape());
    }
    for (int i = 0; i < xs.size(); i++) {
      OpArgs.tensor(backend, op, "xs[" + i + "]", xs.get(i));
      OpArgs.floatType(op, "xs[" + i + "]", xs.get(i));
    }
    // The CPU has nothing to synchronise with, so the coefficient is computed on the host.
    float coefficient = clipCoefficient(backend.toFloats(sumOfSquares)[0], maxNorm);
    if (coefficient == 1f) {
      return;
    }
    for (Tensor x : xs) {
      try (OpFrame f = backend.frame()) {
        f.in(x).muli(coefficient);
      }
    }
  }

  /** {@code min(1, (1 / (sqrt(s) + 1e-6)) * maxNorm)} in float, NaN when s is NaN. */
  static float clipCoefficient(float sumOfSquares, float maxNorm) {
    float c = (1f / ((float) Math.sqrt(sumOfSquares) + CLIP_EPSILON)) * maxNorm;
    return Float.isNaN(c) ? c : Math.min(c, 1f);
  }
}
