package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Token cross-entropy as transformers' causal-LM loss with {@code reduction="sum"}: {@code
 * logsumexp(logits) - logits[label]} summed over rows whose label is not the ignore index, from a
 * log-softmax in fp32. Ignored rows are skipped outright (as PyTorch's nll_loss does), so a NaN in
 * an ignored row reaches neither the loss nor the gradient. The labels are read on the host anyway
 * to validate them, so the counted (row, label) pairs index the logits directly instead of a
 * one-hot matrix as large as the logits.
 */
final class CrossEntropy {
  private CrossEntropy() {}

  static Tensor sum(CpuBackend backend, Tensor logits, Tensor labels, int ignoreIndex) {
    Targets targets = Targets.check(backend, "crossEntropySum", logits, labels, ignoreIndex);
    try (OpFrame f = backend.frame()) {
      NDArray loss;
      if (targets.rows.length == 0) {
        loss = f.zeros(Shape.of(), ai.djl.ndarray.types.DataType.FLOAT32);
      } else {
        NDArray logProbs = f.in(logits).logSoftmax(1);
        loss = logProbs.get(targets.index(f)).sum().neg();
      }
      return f.out(loss, Shape.of(), DType.F32);
    }
  }

  /** {@code scale * (softmax(logits) - onehot(label))} on counted rows, zero on ignored rows. */
  static Tensor backward(CpuBackend backend, Tensor logits, Tensor labels, int ignoreIndex, float scale) {
    Targets targets = Targets.check(backend, "crossEntropyBackward", logits, labels, ignoreIndex);
    try (OpFrame f = backend.frame()) {
      NDArray grad = f.in(logits).softmax(1);
      NDIndex atLabels = null;
      NDArray labelValues = null;
      if (targets.rows.length > 0) {
        atLabels = targets.index(f);
        labelValues = grad.get(atLabels).sub(1f).mul(scale);
      }
      grad.muli(scale);
      if (atLabels != null) {
        grad.set(atLabels, labelValues);
      }
      if (targets.ignoredRows.length > 0) {
        // Assigned, not multiplied by 0, so that NaN logits in ignored rows leave no trace.
        grad.set(new NDIndex("{}", f.temps().create(targets.ignoredRows)), 0f);
      }
      return f.out(grad, logits.shape(), DType.F32);
    }
  }

  /** The counted rows with their labels, and the ignored rows, read from the labels on the host. */
  private record Targets(long[] rows, long[] labels, long[] ignoredRows) {
    NDIndex index(OpFrame f) {
      return new NDIndex("{}, {}", f.temps().create(rows), f.temps().create(labels));
    }

    static Targets check(CpuBackend backend, String op, Tensor logits, Tensor labels, int ignoreIndex) {
      OpArgs.tensor(backend, op, "logits", logits, "[N, V]");
      OpArgs.floatType(op, "logits", logits);
      CpuTensor lt = OpArgs.tensor(backend, op, "labels", labels, "[N]");
      OpArgs.dtype(op, "labels", labels, DType.I32);
      if (labels.dim(0) != logits.dim(0)) {
        throw OpArgs.error(op, "labels %s must have one entry per row of logits %s", labels.shape(), logits.shape());
      }
      int vocab = logits.dim(1);
      int[] host = HostCopy.readInts(lt.array(), labels.shape().numelInt());
      long[] rows = new long[host.length];
      long[] cols = new long[host.length];
      long[] ignored = new long[host.length];
      int counted = 0;
      int skipped = 0;
      for (int i = 0; i < host.length; i++) {
        if (host[i] == ignoreIndex) {
          ignored[skipped++] = i;
        } else if (host[i] < 0 || host[i] >= vocab) {
          throw OpArgs.error(op, "labels[%d] = %d is neither in [0, %d) nor the ignore index %d", i, host[i], vocab, ignoreIndex);
        } else {
          rows[counted] = i;
          cols[counted++] = host[i];
        }
      }
      return new Targets(Arrays.copyOf(rows, counted), Arrays.copyOf(cols, counted), Arrays.copyOf(ignored, skipped));
    }
  }
}
