package io.github.lora4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import ai.djl.ndarray.NDArray;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Tensor;

/**
 * One fused SGD update ({@link Backend#sgdStep}) as a host loop, in torch's single-tensor order:
 * each {@code add(x, alpha=a)} of torch's vectorised CPU kernels is the fused multiply-add {@code
 * fma(a, x, self)}.
 */
final class SgdStep {
  private SgdStep() {}

  static void step(CpuBackend backend, Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum, double dampening,
      double weightDecay, boolean nesterov, boolean firstStep, float gradScale) {
    String op = "sgdStep";
    CpuTensor p = AdamWStep.state(backend, op, "param", param, param);
    CpuTensor g = AdamWStep.state(backend, op, "grad", grad, param);
    boolean hasMomentum = momentum != 0;
    if (hasMomentum && momentumBuffer == null) {
      throw OpArgs.error(op, "momentumBuffer must not be null when momentum is %s", momentum);
    }
    CpuTensor buf = hasMomentum ? AdamWStep.state(backend, op, "momentumBuffer", momentumBuffer, param) : null;
    float wd = (float) weightDecay;
    float mu = (float) momentum;
    float c = (float) (1 - dampening);
    float a = (float) -lr;
    boolean decay = weightDecay != 0;
    NDArray[] arrays = hasMomentum ? new NDArray[] {p.array(), g.array(), buf.array()} : new NDArray[] {p.array(), g.array()};
    int[] bytes = hasMomentum ? new int[] {4, 4, 4} : new int[] {4, 4};
    HostCopy.forEachChunk(arrays, bytes, param.numel(), (seg, start, count) -> {
      for (long i = 0; i < count; i++) {
        float pi = seg[0].getAtIndex(JAVA_FLOAT, i);
        float gi = seg[1].getAtIndex(JAVA_FLOAT, i) * gradScale;
        if (decay) {
          gi = Math.fma(wd, pi, gi);
        }
        if (hasMomentum) {
          float b = firstStep ? gi : Math.fma(c, gi, seg[2].getAtIndex(JAVA_FLOAT, i) * mu);
          seg[2].setAtIndex(JAVA_FLOAT, i, b);
          gi = nesterov ? Math.fma(mu, b, gi) : b;
        }
        seg[0].setAtIndex(JAVA_FLOAT, i, Math.fma(a, gi, pi));
      }
    });
  }
}
