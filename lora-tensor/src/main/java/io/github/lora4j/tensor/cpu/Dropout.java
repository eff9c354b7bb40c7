package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.DropoutMask;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.ValueLayout;

/**
 * Inverted dropout with the mask of {@link DropoutMask}: element {@code i} (flat, row-major) is kept
 * iff {@code DropoutMask.keep(seed, i, threshold(p))} and then scaled by {@code 1 / (1 - p)}, rounded
 * to float once. The mask depends only on the seed and the index, so the backward, which applies the
 * same mask and scale to the upstream gradient, is this same op.
 */
final class Dropout {
  private Dropout() {}

  static Tensor apply(CpuBackend backend, Tensor x, float p, long seed) {
    String op = "dropout";
    OpArgs.tensor(backend, op, "x", x);
    OpArgs.floatType(op, "x", x);
    if (!(p >= 0f && p < 1f)) {
      throw OpArgs.error(op, "p must be in [0, 1): %s", p);
    }
    try (OpFrame f = backend.frame()) {
      NDArray xa = f.in(x);
      if (p == 0f) {
        return f.out(xa, x.shape(), DType.F32);
      }
      NDArray mask = f.zeros(x.shape(), DataType.FLOAT32);
      fillMask(mask, x.numel(), p, seed);
      return f.out(xa.mul(mask), x.shape(), DType.F32);
    }
  }

  /** Writes {@code 1 / (1 - p)} where the element is kept and 0 where it is dropped. */
  static void fillMask(NDArray mask, long numel, float p, long seed) {
    long threshold = DropoutMask.threshold(p);
    float scale = 1f / (1f - p);
    HostCopy.forEachChunk(mask, numel, 4, (seg, start, count) -> {
      for (long i = 0; i < count; i++) {
        seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, DropoutMask.keep(seed, start + i, threshold) ? scale : 0f);
      }
    });
  }
}
