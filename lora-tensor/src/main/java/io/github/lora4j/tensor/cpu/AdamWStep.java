package io.github.lora4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import ai.djl.ndarray.NDArray;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * One fused AdamW update ({@link Backend#adamwStep}) as a host loop over the tensors' memory, in
 * torch's single-tensor order of float operations. Java's float arithmetic rounds every operation
 * once and never contracts {@code a * b + c}, so the fused multiply-adds are exactly the two that
 * torch's vectorised CPU kernels make: {@code lerp_}'s and {@code addcmul_}'s.
 */
final class AdamWStep {
  private AdamWStep() {}

  /** The per-step float constants, each rounded from its double once, as torch rounds Python scalars. */
  record Constants(float decay, float w, float b2, float c2, float bc2, float eps, float stepSize, float gradScale, boolean amsgrad) {
    static Constants of(double lr, double beta1, double beta2, double eps, double weightDecay, double biasCorrection1, double biasCorrection2,
        float gradScale, boolean amsgrad) {
      return new Constants((float) (1 - lr * weightDecay), (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
          (float) Math.sqrt(biasCorrection2), (float) eps, (float) -(lr / biasCorrection1), gradScale, amsgrad);
    }

    /** torch's {@code lerp_(g, w)} of the first moment, vectorised: a fused multiply-add either side of w = 0.5. */
    float lerp(float m, float g) {
      return w < 0.5f ? Math.fma(w, g - m, m) : Math.fma(w - 1f, g - m, g);
    }
  }

  static void step(CpuBackend backend, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq,
      double lr, double beta1, double beta2, double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    String op = "adamwStep";
    CpuTensor p = state(backend, op, "param", param, param);
    CpuTensor g = state(backend, op, "grad", grad, param);
    CpuTensor m = state(backend, op, "expAvg", expAvg, param);
    CpuTensor v = state(backend, op, "expAvgSq", expAvgSq, param);
    CpuTensor vMax = maxExpAvgSq == null ? null : state(backend, op, "maxExpAvgSq", maxExpAvgSq, param);
    Constants k = Constants.of(lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2, gradScale, vMax != null);
    NDArray[] arrays = vMax == null
        ? new NDArray[] {p.array(), g.array(), m.array(), v.array()}
        : new NDArray[] {p.array(), g.array(), m.array(), v.array(), vMax.array()};
    int[] bytes = new int[arrays.length];
    java.util.Arrays.fill(bytes, 4);
    HostCopy.forEachChunk(arrays, bytes, param.numel(), (seg, start, count) -> {
      MemorySegment sp = seg[0];
      MemorySegment sg = seg[1];
      MemorySegment sm = seg[2];
      MemorySegment sv = seg[3];
      for (long i = 0; i < count; i++) {
        float gi = sg.getAtIndex(JAVA_FLOAT, i) * k.gradScale;
        float pi = sp.getAtIndex(JAVA_FLOAT, i) * k.decay;
        float mi = k.lerp(sm.getAtIndex(JAVA_FLOAT, i), gi);
        float vi = Math.fma(k.c2 * gi, gi, sv.getAtIndex(JAVA_FLOAT, i) * k.b2);
        float u = vi;
        if (k.amsgrad) {
          u = Math.max(seg[4].getAtIndex(JAVA_FLOAT, i), vi);
          seg[4].setAtIndex(JAVA_FLOAT, i, u);
        }
        float denom = (float) Math.sqrt(u) / k.bc2 + k.eps;
        sp.setAtIndex(JAVA_FLOAT, i, pi + (k.stepSize * mi) / denom);
        sm.setAtIndex(JAVA_FLOAT, i, mi);
        sv.setAtIndex(JAVA_FLOAT, i, vi);
      }
    });
  }

  /** {@code t} is a live F32 tensor of {@code backend} with the element count of {@code param}. */
  static CpuTensor state(CpuBackend backend, String op, String name, Tensor t, Tensor param) {
    CpuTensor c = OpArgs.tensor(backend, op, name, t);
    OpArgs.dtype(op, name, t, DType.F32);
    if (t.numel() != param.numel()) {
      throw OpArgs.error(op, "%s %s must have the %d elements of param %s", name, t.shape(), param.numel(), param.shape());
    }
    return c;
  }
}
