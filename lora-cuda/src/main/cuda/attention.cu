// Attention's own kernels; the products (Q K^T, P V and their gradients) run in cuBLAS as batched
// GEMMs over [B*H] heads. Here: the layout changes that make each head a contiguous [T, D]
// matrix for those GEMMs (with GQA's key/value head repetition and its gradient reduction), and
// the masked softmax with its backward.
#include "common.cuh"

namespace lora4j {

// dst [B, h_dst, T, D] from src [B, T, h_src, D]: dst[b, h, t, :] = src[b, t, h / (h_dst / h_src), :].
// With h_dst == h_src this is the plain transpose of q; with h_dst = Hq > h_src = Hkv each
// key/value head is repeated for the Hq / Hkv query heads of its group, as transformers'
// repeat_kv does. Threads walk dst in order, so the writes are coalesced and the reads are
// contiguous runs of D.
template <typename T>
__device__ void attention_pack(T* dst, const T* src, int B, int T_, int h_src, int h_dst, int D) {
  const int group = h_dst / h_src;
  for_each_index((long long)B * h_dst * T_ * D, [&](auto i) {
    using I = decltype(i);
    const I d = i % (I)D;
    I rest = i / (I)D;
    const I t = rest % (I)T_;
    rest /= (I)T_;
    const I h = rest % (I)h_dst;
    const I b = rest / (I)h_dst;
    dst[i] = src[(((long long)b * T_ + t) * h_src + h / group) * D + d];
  });
}

// dst [B, T, h_dst, D] from src [B, h_src, T, D]: dst[b, t, g, :] = sum of src[b, h, t, :] over the
// h_src / h_dst heads h of group g, summed in fp32 and rounded once. This is the adjoint of
// attention_pack: the key/value gradient of a repeated head is the sum over its copies.
template <typename T>
__device__ void attention_unpack(T* dst, const T* src, int B, int T_, int h_dst, int h_src, int D) {
  const int group = h_src / h_dst;
  const long long head_stride = (long long)T_ * D;
  for_each_index((long long)B * T_ * h_dst * D, [&](auto i) {
    using I = decltype(i);
    const I d = i % (I)D;
    I rest = i / (I)D;
    const I g = rest % (I)h_dst;
    rest /= (I)h_dst;
    const I t = rest % (I)T_;
    const I b = rest / (I)T_;
    // src is group times larger than dst, so its offsets are 64-bit even when i is not.
    const T* s = src + (((long long)b * h_src + (long long)g * group) * T_ + t) * D + d;
    float acc = 0.0f;
    for (int r = 0; r < group; ++r) acc += to_float(s[r * head_stride]);
    dst[i] = from_float<T>(acc);
  });
}

// Whether query i may attend key j, given seg_row = segments[b, :]. segments numbers the examples
// packed in a row 1, 2, ... and marks padding 0: padding keys are never seen and a query sees
// only its own example. A padding query sees every earlier non-padding key, as with the 4-D mask
// that transformers builds from an attention_mask, which masks keys, not queries (the loss
// ignores those positions). NULL segments: one example, causal only.
__device__ __forceinline__ bool attention_allowed(const int* seg_row, int i, int j) {
  if (j > i) return false;
  if (seg_row == nullptr) return true;
  const int sj = seg_row[j], si = seg_row[i];
  return sj != 0 && (si == 0 || si == sj);
}

// probs = softmax(scale * scores) over the allowed keys, exactly 0 elsewhere; a query with no
// allowed key gets a row of zeros. scores and probs are [B*H, T, T]; one block a query row.
// One pass gathers max and normaliser (online softmax), a second writes, so each score is read
// twice. Keys j > i are never read: they are masked for every query. __fmul_rn keeps the compiler
// from fusing the scale into the subtraction as an FMA in one pass and not the other, so the
// row's largest score gives exp(0) = 1 exactly.
// For T = float, probs may alias scores: a thread reads score j before writing prob j, and all
// reads of the first pass finish before block_softmax's barrier.
template <typename T>
__device__ void attention_softmax_forward(T* probs, const float* scores, const int* segments, int B, int H, int T_, float scale) {
  const long long rows = (long long)B * H * T_;
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const int i = (int)(row % T_);
    const long long b = row / T_ / H;
    const int* seg_row = segments == nullptr ? nullptr : segments + b * T_;
    const float* sr = scores + row * T_;
    T* pr = probs + row * T_;

    SoftmaxStats st = softmax_empty();
    for (int j = threadIdx.x; j <= i; j += blockDim.x) {
      if (attention_allowed(seg_row, i, j)) st = softmax_add(st, __fmul_rn(scale, sr[j]));
    }
    st = block_softmax(st);

    const bool empty = st.m == -INFINITY;
    for (int j = threadIdx.x; j < T_; j += blockDim.x) {
      float p = 0.0f;
      if (!empty && attention_allowed(seg_row, i, j)) p = expf(__fmul_rn(scale, sr[j]) - st.m) / st.s;
      pr[j] = from_float<T>(p);
    }
  }
}

// dscores = scale * p * (dp - sum_j p_j dp_j): the softmax Jacobian-vector product, times the
// scale that the forward applied to the raw scores. Same rows and launch as the forward. Keys
// j > i have p = 0 by the causal mask, so they are written as 0 without being read (dp there is a
// finite GEMM output that would contribute p * ... = 0 anyway).
// dscores may alias probs: a thread reads p_j before writing dscores_j, and the first pass ends at
// block_sum's barrier.
template <typename T>
__device__ void attention_softmax_backward(T* dscores, const T* probs, const float* dprobs, int B, int H, int T_, float scale) {
  const long long rows = (long long)B * H * T_;
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const int i = (int)(row % T_);
    const T* pr = probs + row * T_;
    const float* dpr = dprobs + row * T_;
    T* dsr = dscores + row * T_;

    float dot = 0.0f;
    for (int j = threadIdx.x; j <= i; j += blockDim.x) dot += to_float(pr[j]) * dpr[j];
    dot = block_sum(dot);

    for (int j = threadIdx.x; j < T_; j += blockDim.x) {
      float g = 0.0f;
      if (j <= i) g = scale * to_float(pr[j]) * (dpr[j] - dot);
      dsr[j] = from_float<T>(g);
    }
  }
}

// ---- generation: attention over a key/value cache (forward only)

// cache [B, Tmax, H, D] at positions [start, start + Tq) from src [B, Tq, H, D]: a row's new
// positions are one contiguous run of Tq * H * D elements in both.
template <typename T>
__device__ void kv_cache_write(T* cache, const T* src, int B, int Tq, int Tmax, int H, int D, int start) {
  const long long run = (long long)Tq * H * D;
  for_each_index((long long)B * run, [&](auto i) {
    const long long b = (long long)i / run, r = (long long)i % run;
    cache[(b * Tmax + start) * H * D + r] = src[i];
  });
}

// out [B, Tq, Hq, D]: query i of row b (position start + i) attends cached keys j <= start + i with
// key_mask[b, j] != 0; kv head of query head h is h / (Hq / Hkv). One block a query row (b, i, h),
// rows in q's order. Pass one writes the scaled scores of the row into scores [rows, Tmax] (fp32
// scratch) and gathers the softmax statistics; pass two has each thread own output features d and
// sum p_j v_j[d] over the keys, reading p from the scores every thread wrote before the barrier in
// block_softmax. Decoding reads each cached key once per query head, which is what it costs anyway.
// D <= 512 (q is staged in shared memory).
template <typename T>
__device__ void attention_cached(T* out, const T* q, const T* k_cache, const T* v_cache, const int* key_mask, float* scores, int B, int Tq,
                                 int Tmax, int Hq, int Hkv, int D, int start, float scale) {
  __shared__ float q_row[512];
  const long long rows = (long long)B * Tq * Hq;
  const int group = Hq / Hkv;
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const int h = (int)(row % Hq);
    const int i = (int)(row / Hq % Tq);
    const long long b = row / Hq / Tq;
    const int last = start + i;
    const int* mask = key_mask + b * Tmax;
    const T* kb = k_cache + (b * Tmax * Hkv + h / group) * (long long)D;
    const T* vb = v_cache + (b * Tmax * Hkv + h / group) * (long long)D;
    const long long key_stride = (long long)Hkv * D;
    float* sr = scores + row * Tmax;

    __syncthreads();  // the previous row's readers of q_row are done
    for (int d = threadIdx.x; d < D; d += blockDim.x) q_row[d] = to_float(q[row * D + d]);
    __syncthreads();

    SoftmaxStats st = softmax_empty();
    for (int j = threadIdx.x; j <= last; j += blockDim.x) {
      float s = -INFINITY;
      if (mask[j] != 0) {
        const T* kj = kb + j * key_stride;
        float dot = 0.0f;
        for (int d = 0; d < D; ++d) dot += q_row[d] * to_float(kj[d]);
        s = __fmul_rn(scale, dot);
        st = softmax_add(st, s);
      }
      sr[j] = s;
    }
    st = block_softmax(st);

    const bool empty = st.m == -INFINITY;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.0f;
      if (!empty) {
        for (int j = 0; j <= last; ++j) {
          const float s = sr[j];
          if (s != -INFINITY) acc += expf(s - st.m) / st.s * to_float(vb[j * key_stride + d]);
        }
      }
      out[row * D + d] = from_float<T>(acc);
    }
  }
}

}  // namespace lora4j

LORA4J_EXPORT(attention_pack, (T* dst, const T* src, int B, int T_, int h_src, int h_dst, int D),
              (dst, src, B, T_, h_src, h_dst, D))
LORA4J_EXPORT(attention_unpack, (T* dst, const T* src, int B, int T_, int h_dst, int h_src, int D),
              (dst, src, B, T_, h_dst, h_src, D))
LORA4J_EXPORT(attention_softmax_forward, (T* probs, const float* scores, const int* segments, int B, int H, int T_, float scale),
              (probs, scores, segments, B, H, T_, scale))
LORA4J_EXPORT(attention_softmax_backward, (T* dscores, const T* probs, const float* dprobs, int B, int H, int T_, float scale),
              (dscores, probs, dprobs, B, H, T_, scale))
LORA4J_EXPORT(kv_cache_write, (T* cache, const T* src, int B, int Tq, int Tmax, int H, int D, int start),
              (cache, src, B, Tq, Tmax, H, D, start))
LORA4J_EXPORT(attention_cached, (T* out, const T* q, const T* k_cache, const T* v_cache, const int* key_mask, float* scores, int B, int Tq,
                                 int Tmax, int Hq, int Hkv, int D, int start, float scale),
              (out, q, k_cache, v_cache, key_mask, scores, B, Tq, Tmax, Hq, Hkv, D, start, scale))
