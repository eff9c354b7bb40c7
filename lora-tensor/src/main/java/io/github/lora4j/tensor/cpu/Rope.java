package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;

/**
 * Rotary position embedding with transformers' {@code rotate_half} convention: with {@code x1, x2}
 * the halves of a head vector, {@code cos, sin} of {@code angle_i = pos * invFreq[i]} (repeated for
 * both halves) and {@code out = x * cos + rotate_half(x) * sin}, {@code rotate_half(x) = cat(-x2,
 * x1)}. The rotation is orthogonal, so its backward is the rotation by the negative angle: the same
 * op with {@code inverse = true}.
 */
final class Rope {
  private Rope() {}

  static void applyInPlace(CpuBackend backend, Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    String op = "rope";
    OpArgs.tensor(backend, op, "x", x, "[N, heads, headDim]");
    OpArgs.floatType(op, "x", x);
    OpArgs.tensor(backend, op, "positions", positions, "[N]");
    OpArgs.dtype(op, "positions", positions, DType.I32);
    OpArgs.tensor(backend, op, "invFreq", invFreq, "[headDim / 2]");
    OpArgs.floatType(op, "invFreq", invFreq);
    int n = x.dim(0);
    int headDim = x.dim(2);
    if (headDim % 2 != 0) {
      throw OpArgs.error(op, "x %s has an odd head dim %d; rotate_half needs an even one", x.shape(), headDim);
    }
    int half = headDim / 2;
    if (positions.dim(0) != n) {
      throw OpArgs.error(op, "positions %s must have one entry per row of x %s", positions.shape(), x.shape());
    }
    if (invFreq.dim(0) != half) {
      throw OpArgs.error(op, "invFreq %s must have headDim / 2 = %d entries for x %s", invFreq.shape(), half, x.shape());
    }
    try (OpFrame f = backend.frame()) {
      NDArray xa = f.in(x);
      NDArray angles = f.in(positions).toType(DataType.FLOAT32, false).reshape(n, 1).mul(f.in(invFreq).reshape(1, half));
      NDArray cos = angles.cos().reshape(n, 1, half);
      NDArray sin = angles.sin().reshape(n, 1, half);
      if (inverse) {
        sin = sin.neg();
      }
      NDArray x1 = xa.get(new NDIndex(":, :, :{}", half));
      NDArray x2 = xa.get(new NDIndex(":, :, {}:", half));
      NDArray out1 = x1.mul(cos).sub(x2.mul(sin));
      NDArray out2 = x2.mul(cos).add(x1.mul(sin));
      xa.set(new NDIndex("..."), NDArrays.concat(new NDList(out1, out2), 2));
    }
  }
}
