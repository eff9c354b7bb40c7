package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.core.Linear;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Matrix products. There is no separate backward: for {@code C = A @ B} and an upstream gradient
 * {@code dC}, {@code dA = dC @ B^T} and {@code dB = A^T @ dC} are themselves gemms with transposed
 * operands, and for {@code y = x @ W^T} {@code dx = dy @ W} (the frozen weight needs no gradient).
 */
final class Gemm {
  private Gemm() {}

  /** {@code c = alpha * op(a) @ op(b) + beta * c}; beta = 0 ignores what c held (NaN included), as BLAS does. */
  static void gemm(CpuBackend backend, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta, Tensor c) {
    String op = "gemm";
    OpArgs.tensor(backend, op, "c", c);
    Shape expected = productShape(backend, op, a, transA, b, transB);
    if (!c.shape().equals(expected)) {
      throw OpArgs.error(op, "c is %s but op(a) @ op(b) is %s", c.shape(), expected);
    }
    OpArgs.floatType(op, "c", c);
    try (OpFrame f = backend.frame()) {
      NDArray product = product(f, a, transA, b, transB);
      if (alpha != 1f) {
        product = product.mul(alpha);
      }
      NDArray ca = f.in(c);
      if (beta == 0f) {
        ca.set(new NDIndex("..."), product);
      } else {
        if (beta != 1f) {
          ca.muli(beta);
        }
        ca.addi(product);
      }
    }
  }

  /** {@code op(a) @ op(b)} as a new tensor. */
  static Tensor matmul(CpuBackend backend, Tensor a, boolean transA, Tensor b, boolean transB) {
    Shape shape = productShape(backend, "matmul", a, transA, b, transB);
    try (OpFrame f = backend.frame()) {
      return f.out(product(f, a, transA, b, transB), shape, DType.F32);
    }
  }

  /** {@code x @ weight^T + bias} with PyTorch's {@code linear}, the op behind transformers' {@code nn.Linear}. */
  static Tensor linear(CpuBackend backend, Tensor x, Tensor weight, Tensor bias) {
    String op = "linear";
    OpArgs.tensor(backend, op, "x", x, "[N, in]");
    OpArgs.tensor(backend, op, "weight", weight, "[out, in]");
    OpArgs.floatType(op, "x", x);
    OpArgs.floatType(op, "weight", weight);
    if (x.dim(1) != weight.dim(1)) {
      throw OpArgs.error(op, "x %s has %d input features but weight %s has %d", x.shape(), x.dim(1), weight.shape(), weight.dim(1));
    }
    if (bias != null) {
      OpArgs.tensor(backend, op, "bias", bias, "[out]");
      OpArgs.floatType(op, "bias", bias);
      if (bias.dim(0) != weight.dim(0)) {
        throw OpArgs.error(op, "bias %s does not match weight %s's %d outputs", bias.shape(), weight.shape(), weight.dim(0));
      }
    }
    try (OpFrame f = backend.frame()) {
      NDArray y = Linear.linear(f.in(x), f.in(weight), bias == null ? null : f.in(bias)).singletonOrThrow();
      return f.out(y, Shape.of(x.dim(0), weight.dim(0)), DType.F32);
    }
  }

  /** Transposes are views; PyTorch's matmul hands them to BLAS as transposed operands. */
  private static NDArray product(OpFrame f, Tensor a, boolean transA, Tensor b, boolean transB) {
    NDArray aa = transA ? transposeLast(f.in(a)) : f.in(a);
    NDArray ba = transB ? transposeLast(f.in(b)) : f.in(b);
    return aa.matMul(ba);
  }

  private static NDArray transposeLast(NDArray a) {
    int r = a.getShape().dimension();
    return a.swapAxes(r - 2, r - 1);
  }

  /** Validates the operands of {@code op(a) @ op(b)} and returns the product's shape. */
  private static Shape productShape(CpuBackend backend, String op, Tensor a, boolean transA, Tensor b, boolean transB) {
    OpArgs.tensor(backend, op, "a", a);
    OpArgs.tensor(backend, op, "b", b);
    OpArgs.floatType(op, "a", a);
    OpArgs.floatType(op, "b", b);
    int rank = a.shape().rank();
    if (rank != 2 && rank != 3) {
      throw OpArgs.error(op, "a must be 2-D or 3-D (batched), got %s", a.shape());
    }
    if (b.shape().rank() != rank) {
      throw OpArgs.error(op, "a %s and b %s must have the same rank", a.shape(), b.shape());
    }
    if (rank == 3 && a.dim(0) != b.dim(0)) {
      throw OpArgs.error(op, "batch dims differ: a %s, b %s", a.shape(), b.shape());
    }
    int m = transA ? a.dim(-1) : a.dim(-2);
    int ka = transA ? a.dim(-2) : a.dim(-1);
    int kb = transB ? b.dim(-1) : b.dim(-2);
    int n = transB ? b.dim(-2) : b.dim(-1);
    if (ka != kb) {
      throw OpArgs.error(op, "inner dims differ: op(a) of a %s%s has %d columns, op(b) of b %s%s has %d rows",
          a.shape(), transA ? " (transposed)" : "", ka, b.shape(), transB ? " (transposed)" : "", kb);
    }
    return rank == 2 ? Shape.of(m, n) : Shape.of(a.dim(0), m, n);
  }
}
