package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;

/** Llama's gated MLP activation {@code silu(gate) * up} with {@code silu(g) = g * sigmoid(g)}, and its gradients. */
final class Swiglu {
  private Swiglu() {}

  static Tensor forward(CpuBackend backend, Tensor gate, Tensor up) {
    check(backend, "swiglu", gate, up);
    try (OpFrame f = backend.frame()) {
      NDArray g = f.in(gate);
      return f.out(g.mul(Activation.sigmoid(g)).mul(f.in(up)), gate.shape(), DType.F32);
    }
  }

  /**
   * {@code dUp = dOut * silu(g)}; {@code dGate = dOut * up * silu'(g)} with {@code silu'(g) = s (1 + g
   * (1 - s))}, {@code s = sigmoid(g)}.
   */
  static Tensor[] backward(CpuBackend backend, Tensor dOut, Tensor gate, Tensor up) {
    String op = "swigluBackward";
    check(backend, op, gate, up);
    OpArgs.tensor(backend, op, "dOut", dOut);
    OpArgs.floatType(op, "dOut", dOut);
    OpArgs.sameShape(op, "dOut", dOut, "gate", gate);
    try (OpFrame f = backend.frame()) {
      NDArray g = f.in(gate);
      NDArray d = f.in(dOut);
      NDArray s = Activation.sigmoid(g);
      NDArray dUp = d.mul(g.mul(s));
      NDArray dSilu = s.mul(g.mul(s.neg().add(1f)).add(1f));
      NDArray dGate = d.mul(f.in(up)).mul(dSilu);
      return new Tensor[] {f.out(dGate, gate.shape(), DType.F32), f.out(dUp, up.shape(), DType.F32)};
    }
  }

  private static void check(CpuBackend backend, String op, Tensor gate, Tensor up) {
    OpArgs.tensor(backend, op, "gate", gate);
    OpArgs.tensor(backend, op, "up", up);
    OpArgs.floatType(op, "gate", gate);
    OpArgs.floatType(op, "up", up);
    OpArgs.sameShape(op, "gate", gate, "up", up);
  }
}
