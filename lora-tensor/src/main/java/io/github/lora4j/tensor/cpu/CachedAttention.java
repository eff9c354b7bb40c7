package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.index.NDIndex;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Attention over a key/value cache for generation: the new keys and values are written into the
 * cache, then the queries attend to every cached position up to their own, skipping masked (left
 * padding) keys. The arithmetic is {@link Attention}'s, with Tq queries against Tk = start + Tq
 * keys instead of a square score matrix.
 */
final class CachedAttention {
  private CachedAttention() {}

  static Tensor forward(CpuBackend backend, Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor keyMask, int start, float scale) {
    String op = "cachedAttention";
    OpArgs.tensor(backend, op, "q", q, "[B, Tq, Hq, D]");
    OpArgs.tensor(backend, op, "k", k, "[B, Tq, Hkv, D]");
    OpArgs.tensor(backend, op, "kCache", kCache, "[B, Tmax, Hkv, D]");
    OpArgs.floatType(op, "q", q);
    OpArgs.sameShape(op, "k", k, "v", v);
    OpArgs.sameShape(op, "kCache", kCache, "vCache", vCache);
    int b = q.dim(0);
    int tq = q.dim(1);
    int hq = q.dim(2);
    int d = q.dim(3);
    int tmax = kCache.dim(1);
    int hkv = kCache.dim(2);
    if (!k.shape().equals(Shape.of(b, tq, hkv, d)) || kCache.dim(0) != b || kCache.dim(3) != d) {
      throw OpArgs.error(op, "k %s and kCache %s must be [B, Tq, Hkv, D] and [B, Tmax, Hkv, D] for q %s", k.shape(), kCache.shape(), q.shape());
    }
    if (hq % hkv != 0) {
      throw OpArgs.error(op, "kCache has %d kv heads, which does not divide q's %d heads", hkv, hq);
    }
    OpArgs.tensor(backend, op, "keyMask", keyMask, "[B, Tmax]");
    OpArgs.dtype(op, "keyMask", keyMask, DType.I32);
    OpArgs.shape(op, "keyMask", keyMask, Shape.of(b, tmax));
    if (start < 0 || start + tq > tmax) {
      throw OpArgs.error(op, "positions [%d, %d) do not fit the cache of %d positions", start, start + tq, tmax);
    }
    int tk = start + tq;
    int g = hq / hkv;
    try (OpFrame f = backend.frame()) {
      NDIndex fresh = new NDIndex(":, {}:{}", start, tk);
      f.in(kCache).set(fresh, f.in(k));
      f.in(vCache).set(fresh, f.in(v));
      NDIndex seen = new NDIndex(":, :{}", tk);
      // [B, Hkv, Tk, D]; the G query heads of a group are stacked along the query axis, as Attention does.
      NDArray kh = f.in(kCache).get(seen).swapAxes(1, 2);
      NDArray vh = f.in(vCache).get(seen).swapAxes(1, 2);
      NDArray qg = f.in(q).swapAxes(1, 2).reshape(b, hkv, g * tq, d);
      NDArray scores = qg.matMul(kh.swapAxes(2, 3)).mul(scale).reshape(b, hq, tq, tk);
      NDArray queryPos = f.temps().arange(start, tk).reshape(tq, 1);
      NDArray keyPos = f.temps().arange(tk).reshape(1, tk);
      NDArray mask = f.in(keyMask).get(seen).neq(0).reshape(b, 1, 1, tk);
      NDArray allowed = queryPos.gte(keyPos).reshape(1, 1, tq, tk).logicalAnd(mask).broadcast(scores.getShape());
      NDArray softmax = NDArrays.where(allowed, scores, f.temps().create(Float.NEGATIVE_INFINITY)).softmax(3);
      // A query with no visible key softmaxes to NaN; the where() turns the row to zeros.
      NDArray probs = NDArrays.where(allowed, softmax, f.temps().create(0f));
      NDArray out = probs.reshape(b, hkv, g * tq, tk).matMul(vh).reshape(b, hq, tq, d).swapAxes(1, 2);
      return f.out(out, q.shape(), DType.F32);
    }
  }
}
