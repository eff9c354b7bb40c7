package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Token cross-entropy as transformers' causal-LM loss with {@code reduction="sum"}: {@code
 * logsumexp(logits) - logits[label]} summed over rows whose label is not the ignore index, from a
 * log-softmax in fp32. Ignored rows are skipped outright (as PyTorch's nll_loss does), so a NaN in
 * an ignored row reaches neither the loss nor the gradient.
 */
final class CrossEntropy {
  private CrossEntropy() {}

  static Tensor sum(CpuBackend backend, Tensor logits, Tensor labels, int ignoreIndex) {
    check(backend, "crossEntropySum", logits, labels, ignoreIndex);
    try (OpFrame f = backend.frame()) {
      NDArray counted = counted(f, labels, ignoreIndex);
      NDArray target = safeTargets(f, labels, counted).reshape(-1, 1);
      NDArray picked = f.in(logits).logSoftmax(1).gather(target, 1).reshape(-1);
      NDArray loss = NDArrays.where(counted, picked.neg(), f.temps().create(0f)).sum();
      return f.out(loss, Shape.of(), DType.F32);
    }
  }

  /** {@code scale * (softmax(logits) - onehot(label))} on counted rows, zero on ignored rows. */
  static Tensor backward(CpuBackend backend, Tensor logits, Tensor labels, int ignoreIndex, float scale) {
    check(backend, "crossEntropyBackward", logits, labels, ignoreIndex);
    int vocab = logits.dim(1);
    try (OpFrame f = backend.frame()) {
      NDArray counted = counted(f, labels, ignoreIndex);
      NDArray onehot = safeTargets(f, labels, counted).oneHot(vocab, DataType.FLOAT32);
      NDArray grad = f.in(logits).softmax(1).sub(onehot).mul(scale);
      NDArray out = NDArrays.where(counted.reshape(-1, 1).broadcast(grad.getShape()), grad, f.temps().create(0f));
      return f.out(out, logits.shape(), DType.F32);
    }
  }

  private static NDArray counted(OpFrame f, Tensor labels, int ignoreIndex) {
    return f.in(labels).neq(ignoreIndex);
  }

  /** The labels as int64 indices, with ignored rows pointing at column 0 so that gather stays in range. */
  private static NDArray safeTargets(OpFrame f, Tensor labels, NDArray counted) {
    return NDArrays.where(counted, f.in(labels), f.temps().create(0)).toType(DataType.INT64, false);
  }

  private static void check(CpuBackend backend, String op, Tensor logits, Tensor labels, int ignoreIndex) {
    OpArgs.tensor(backend, op, "logits", logits, "[N, V]");
    OpArgs.floatType(op, "logits", logits);
    CpuTensor lt = OpArgs.tensor(backend, op, "labels", labels, "[N]");
    OpArgs.dtype(op, "labels", labels, DType.I32);
    if (labels.dim(0) != logits.dim(0)) {
      throw OpArgs.error(op, "labels %s must have one entry per row of logits %s", labels.shape(), logits.shape());
    }
    int vocab = logits.dim(1);
    int[] host = HostCopy.readInts(lt.array(), labels.shape().numelInt());
    for (int i = 0; i < host.length; i++) {
      if (host[i] != ignoreIndex && (host[i] < 0 || host[i] >= vocab)) {
        throw OpArgs.error(op, "labels[%d] = %d is neither in [0, %d) nor the ignore index %d", i, host[i], vocab, ignoreIndex);
      }
    }
  }
}
