package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/** Token embedding lookup with PyTorch's {@code embedding}. The table is frozen, so there is no backward. */
final class Embedding {
  private Embedding() {}

  static Tensor forward(CpuBackend backend, Tensor table, Tensor ids) {
    String op = "embedding";
    OpArgs.tensor(backend, op, "table", table, "[V, D]");
    OpArgs.floatType(op, "table", table);
    CpuTensor idt = OpArgs.tensor(backend, op, "ids", ids, "[N]");
    OpArgs.dtype(op, "ids", ids, DType.I32);
    int vocab = table.dim(0);
    int[] host = HostCopy.readInts(idt.array(), ids.shape().numelInt());
    for (int i = 0; i < host.length; i++) {
      if (host[i] < 0 || host[i] >= vocab) {
        throw OpArgs.error(op, "ids[%d] = %d is outside the vocabulary [0, %d) of table %s", i, host[i], vocab, table.shape());
      }
    }
    try (OpFrame f = backend.frame()) {
      NDArray rows = ai.djl.nn.core.Embedding.embedding(f.in(ids), f.in(table), SparseFormat.DENSE).singletonOrThrow();
      return f.out(rows, Shape.of(ids.dim(0), table.dim(1)), DType.F32);
    }
  }
}
