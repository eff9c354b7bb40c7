package io.github.lora4j.cuda;

import io.github.lora4j.tensor.Tensor;

/** The shape of one attention call: q [B, T, H, D], k and v [B, T, Hkv, D]. */
record AttentionDims(int batch, int seq, int heads, int kvHeads, int headDim) {

  static AttentionDims of(Tensor q, Tensor k, Tensor v) {
    if (q.shape().rank() != 4 || k.shape().rank() != 4 || v.shape().rank() != 4) {
      throw new IllegalArgumentException("attention: q, k and v must be [B, T, heads, headDim]: " + q.shape() + ", " + k.shape() + ", " + v.shape());
    }
    if (!k.shape().equals(v.shape())) {
      throw new IllegalArgumentException("attention: k " + k.shape() + " and v " + v.shape() + " differ");
    }
    if (q.dim(0) != k.dim(0) || q.dim(1) != k.dim(1) || q.dim(3) != k.dim(3)) {
      throw new IllegalArgumentException("attention: q " + q.shape() + " and k " + k.shape() + " differ in batch, length or head size");
    }
    if (q.dim(2) % k.dim(2) != 0) {
      throw new IllegalArgumentException("attention: k has " + k.dim(2) + " kv heads, which does not divide q's " + q.dim(2) + " heads");
    }
    if (q.dtype() != k.dtype() || q.dtype() != v.dtype()) {
      throw new IllegalArgumentException("attention: q, k and v must share a dtype: " + q.dtype() + ", " + k.dtype() + ", " + v.dtype());
    }
    return new AttentionDims(q.dim(0), q.dim(1), q.dim(2), k.dim(2), q.dim(3));
  }
}
