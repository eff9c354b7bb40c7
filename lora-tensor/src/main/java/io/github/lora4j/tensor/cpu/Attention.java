package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Causal grouped-query attention as transformers' eager attention computes it: {@code scores = q k^T *
 * scale}, masked keys at -inf, softmax in fp32, {@code out = probs v}. Query head {@code h} reads kv
 * head {@code h / (Hq / Hkv)}; instead of repeating k and v per query head, the {@code G = Hq / Hkv}
 * query heads of a group are stacked along the sequence so one batched matmul serves the group, which
 * also sums the group's dk and dv in the backward. A query row that may see no key outputs zeros.
 * The forward saves the probabilities {@code [B, Hq, T, T]}.
 */
final class Attention {
  private Attention() {}

  static AttentionOutput forward(CpuBackend backend, Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    Dims d = Dims.check(backend, "attention", q, k, v, segments);
    try (OpFrame f = backend.frame()) {
      NDArray qg = grouped(f.in(q), d);
      NDArray kh = headsFirst(f.in(k));
      NDArray vh = headsFirst(f.in(v));
      Shape probsShape = Shape.of(d.b, d.hq, d.t, d.t);
      // [B or 1, 1, T, T], broadcast over the heads. DJL's where() wants the condition and its first
      // operand of one shape (the second may broadcast), hence the explicit zeros and broadcast.
      NDArray allowed = allowed(f, segments, d).reshape(-1, 1, d.t, d.t);
      NDArray bias = NDArrays.where(allowed, f.temps().zeros(allowed.getShape()), f.temps().create(Float.NEGATIVE_INFINITY));
      NDArray scores = qg.matMul(kh.swapAxes(2, 3)).mul(scale).reshape(CpuBackend.djlShape(probsShape));
      NDArray softmax = scores.add(bias).softmax(3);
      // Rows with no allowed key are all -inf and softmax to NaN; the where() turns them to zeros.
      NDArray probs = NDArrays.where(allowed.broadcast(softmax.getShape()), softmax, f.temps().create(0f));
      NDArray out = probs.reshape(d.b, d.hkv, d.g * d.t, d.t).matMul(vh);
      return new AttentionOutput(f.out(ungrouped(out, d), q.shape(), DType.F32), f.out(probs, probsShape, DType.F32));
    }
  }

  /**
   * With {@code P} the probabilities and {@code dO} the upstream gradient: {@code dv = P^T dO}, {@code
   * dP = dO v^T}, {@code dS = P * (dP - rowsum(dP * P))} (softmax's Jacobian), {@code dq = dS k *
   * scale}, {@code dk = dS^T q * scale}. Masked entries have {@code P = 0}, so their dS is zero.
   */
  static AttentionGrads backward(CpuBackend backend, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, AttentionOutput forward) {
    String op = "attentionBackward";
    Dims d = Dims.check(backend, op, q, k, v, segments);
    OpArgs.tensor(backend, op, "dOut", dOut);
    OpArgs.floatType(op, "dOut", dOut);
    OpArgs.sameShape(op, "dOut", dOut, "q", q);
    if (forward == null) {
      throw OpArgs.error(op, "forward must be the AttentionOutput of the matching attention call");
    }
    OpArgs.tensor(backend, op, "forward.saved", forward.saved());
    OpArgs.shape(op, "forward.saved (the probabilities)", forward.saved(), Shape.of(d.b, d.hq, d.t, d.t));
    try (OpFrame f = backend.frame()) {
      NDArray probs = f.in(forward.saved()).reshape(d.b, d.hkv, d.g * d.t, d.t);
      NDArray dOg = grouped(f.in(dOut), d);
      NDArray qg = grouped(f.in(q), d);
      NDArray kh = headsFirst(f.in(k));
      NDArray vh = headsFirst(f.in(v));
      NDArray dv = probs.swapAxes(2, 3).matMul(dOg);
      NDArray dProbs = dOg.matMul(vh.swapAxes(2, 3));
      NDArray rowDot = dProbs.mul(probs).sum(new int[] {3}, true);
      NDArray dScores = probs.mul(dProbs.sub(rowDot)).mul(scale);
      NDArray dq = dScores.matMul(kh);
      NDArray dk = dScores.swapAxes(2, 3).matMul(qg);
      return new AttentionGrads(
          f.out(ungrouped(dq, d), q.shape(), DType.F32),
          f.out(dk.swapAxes(1, 2), k.shape(), DType.F32),
          f.out(dv.swapAxes(1, 2), v.shape(), DType.F32));
    }
  }

  /**
   * Which keys each query sees, boolean {@code [B or 1, T, T]}: {@code j <= i}, key j in a segment,
   * and for a query in a segment, the same segment.
   */
  private static NDArray allowed(OpFrame f, Tensor segments, Dims d) {
    NDManager m = f.temps();
    NDArray pos = m.arange(d.t);
    NDArray causal = pos.reshape(d.t, 1).gte(pos.reshape(1, d.t)).reshape(1, d.t, d.t);
    if (segments == null) {
      return causal;
    }
    NDArray seg = f.in(segments);
    NDArray segQuery = seg.reshape(d.b, d.t, 1);
    NDArray segKey = seg.reshape(d.b, 1, d.t);
    NDArray sameOrPadQuery = segQuery.eq(segKey).logicalOr(segQuery.eq(0));
    return causal.logicalAnd(segKey.neq(0)).logicalAnd(sameOrPadQuery);
  }

  /** {@code [B, T, Hq, D]} to {@code [B, Hkv, G * T, D]}: head h = kv * G + g, so the reshape groups them. */
  private static NDArray grouped(NDArray a, Dims d) {
    return a.swapAxes(1, 2).reshape(d.b, d.hkv, d.g * d.t, d.dh);
  }

  /** The inverse of {@link #grouped}: {@code [B, Hkv, G * T, D]} back to {@code [B, T, Hq, D]}. */
  private static NDArray ungrouped(NDArray a, Dims d) {
    return a.reshape(d.b, d.hq, d.t, d.dh).swapAxes(1, 2);
  }

  private static NDArray headsFirst(NDArray a) {
    return a.swapAxes(1, 2);
  }

  private record Dims(int b, int t, int hq, int hkv, int g, int dh) {
    static Dims check(CpuBackend backend, String op, Tensor q, Tensor k, Tensor v, Tensor segments) {
      OpArgs.tensor(backend, op, "q", q, "[B, T, Hq, D]");
      OpArgs.tensor(backend, op, "k", k, "[B, T, Hkv, D]");
      OpArgs.tensor(backend, op, "v", v, "[B, T, Hkv, D]");
      OpArgs.floatType(op, "q", q);
      OpArgs.floatType(op, "k", k);
      OpArgs.floatType(op, "v", v);
      OpArgs.sameShape(op, "k", k, "v", v);
      int b = q.dim(0);
      int t = q.dim(1);
      int hq = q.dim(2);
      int hkv = k.dim(2);
      if (k.dim(0) != b || k.dim(1) != t) {
        throw OpArgs.error(op, "k %s must have q %s's batch and sequence dims", k.shape(), q.shape());
      }
      if (k.dim(3) != q.dim(3)) {
        throw OpArgs.error(op, "k %s has head dim %d but q %s has %d", k.shape(), k.dim(3), q.shape(), q.dim(3));
      }
      if (hkv == 0 || hq % hkv != 0) {
        throw OpArgs.error(op, "k has %d kv heads, which does not divide q's %d heads", hkv, hq);
      }
      if (segments != null) {
        OpArgs.tensor(backend, op, "segments", segments, "[B, T]");
        OpArgs.dtype(op, "segments", segments, DType.I32);
        OpArgs.shape(op, "segments", segments, Shape.of(b, t));
      }
      return new Dims(b, t, hq, hkv, hq / hkv, q.dim(3));
    }
  }
}
