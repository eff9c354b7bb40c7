package io.github.lora4j.tensor.cpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import ai.djl.ndarray.NDArray;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.DynamicQuantization;
import io.github.lora4j.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * One AdamW update with 8-bit block-wise moments ({@link Backend#adamw8bitStep}) as a host loop,
 * block by block: dequantise, AdamW's float operations in {@link AdamWStep}'s order, new absmax,
 * requantise.
 */
final class AdamW8bitStep {
  private AdamW8bitStep() {}

  private static final float[] SIGNED = DynamicQuantization.signedCode();
  private static final float[] UNSIGNED = DynamicQuantization.unsignedCode();
  private static final int SIGNED_ZERO = DynamicQuantization.quantize(0f, SIGNED);
  private static final int UNSIGNED_ZERO = DynamicQuantization.quantize(0f, UNSIGNED);
  private static final int BLOCK = DynamicQuantization.BLOCK_SIZE;

  static void step(CpuBackend backend, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgAbsmax, Tensor expAvgSq, Tensor expAvgSqAbsmax,
      double lr, double beta1, double beta2, double eps, double weightDecay, double biasCorrection1, double biasCorrection2, float gradScale) {
    String op = "adamw8bitStep";
    CpuTensor p = AdamWStep.state(backend, op, "param", param, param);
    CpuTensor g = AdamWStep.state(backend, op, "grad", grad, param);
    CpuTensor mq = codes(backend, op, "expAvg", expAvg, param);
    CpuTensor vq = codes(backend, op, "expAvgSq", expAvgSq, param);
    CpuTensor mAbs = scales(backend, op, "expAvgAbsmax", expAvgAbsmax, param);
    CpuTensor vAbs = scales(backend, op, "expAvgSqAbsmax", expAvgSqAbsmax, param);
    AdamWStep.Constants k = AdamWStep.Constants.of(lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2, gradScale, false);
    NDArray[] arrays = {p.array(), g.array(), mq.array(), vq.array(), mAbs.array(), vAbs.array()};
    HostCopy.forEachChunk(arrays, new int[] {4, 4, 1, 1, 4, 4}, new int[] {1, 1, 1, 1, BLOCK, BLOCK}, param.numel(), (seg, start, count) -> {
      float[] m = new float[BLOCK];
      float[] v = new float[BLOCK];
      for (long b = 0; b * BLOCK < count; b++) {
        long first = b * BLOCK;
        int len = (int) Math.min(BLOCK, count - first);
        float mScale = seg[4].getAtIndex(JAVA_FLOAT, b);
        float vScale = seg[5].getAtIndex(JAVA_FLOAT, b);
        float mMax = 0;
        float vMax = 0;
        for (int j = 0; j < len; j++) {
          long i = first + j;
          float gi = seg[1].getAtIndex(JAVA_FLOAT, i) * k.gradScale();
          float pi = seg[0].getAtIndex(JAVA_FLOAT, i) * k.decay();
          float mi = k.lerp(SIGNED[seg[2].get(JAVA_BYTE, i) & 0xff] * mScale, gi);
          float vi = Math.fma(k.c2() * gi, gi, UNSIGNED[seg[3].get(JAVA_BYTE, i) & 0xff] * vScale * k.b2());
          float denom = (float) Math.sqrt(vi) / k.bc2() + k.eps();
          seg[0].setAtIndex(JAVA_FLOAT, i, pi + (k.stepSize() * mi) / denom);
          m[j] = mi;
          v[j] = vi;
          mMax = Math.max(mMax, Math.abs(mi));
          vMax = Math.max(vMax, vi);
        }
        seg[4].setAtIndex(JAVA_FLOAT, b, mMax);
        seg[5].setAtIndex(JAVA_FLOAT, b, vMax);
        for (int j = 0; j < len; j++) {
          long i = first + j;
          seg[2].set(JAVA_BYTE, i, (byte) (mMax == 0 ? SIGNED_ZERO : DynamicQuantization.quantize(m[j] / mMax, SIGNED)));
          seg[3].set(JAVA_BYTE, i, (byte) (vMax == 0 ? UNSIGNED_ZERO : DynamicQuantization.quantize(v[j] / vMax, UNSIGNED)));
        }
      }
    });
  }

  private static CpuTensor codes(CpuBackend backend, String op, String name, Tensor t, Tensor param) {
    CpuTensor c = OpArgs.tensor(backend, op, name, t);
    OpArgs.dtype(op, name, t, DType.U8);
    if (t.numel() != param.numel()) {
      throw OpArgs.error(op, "%s %s must have the %d elements of param %s", name, t.shape(), param.numel(), param.shape());
    }
    return c;
  }

  private static CpuTensor scales(CpuBackend backend, String op, String name, Tensor t, Tensor param) {
    CpuTensor c = OpArgs.tensor(backend, op, name, t);
    OpArgs.dtype(op, name, t, DType.F32);
    long blocks = DynamicQuantization.blocks(param.numel());
    if (t.numel() != blocks) {
      throw OpArgs.error(op, "%s %s must have one entry per block of %d elements of param %s: %d", name, t.shape(), BLOCK, param.shape(), blocks);
    }
    return c;
  }
}
