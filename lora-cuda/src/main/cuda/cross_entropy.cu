// Cross-entropy of logits [n, vocab] against int32 labels, forward (per-row loss, summed by
// sum_f32) and backward. One block a row; log-softmax in fp32 with the max subtracted, its max
// and normaliser gathered in one pass (online softmax), so the backward reads a row twice and
// the forward once.
#include "common.cuh"

namespace lora4j {

// The max and sum of exp(x - max) of one row, in every thread of the block.
template <typename T>
__device__ __forceinline__ SoftmaxStats row_softmax_stats(const T* xr, int vocab) {
  SoftmaxStats st = softmax_empty();
  for (int j = threadIdx.x; j < vocab; j += blockDim.x) st = softmax_add(st, to_float(xr[j]));
  return block_softmax(st);
}

// row_loss[i] = logsumexp(logits[i, :]) - logits[i, label] = m + log(s) - logits[i, label], or 0
// for a label equal to ignore_index. A label outside [0, vocab) that is not ignore_index gives
// NaN, rather than a read out of bounds, so that the summed loss shows the bad batch.
// The label test is uniform across the block, so the early exit keeps block_softmax's barriers
// reached by all threads or none.
template <typename T>
__device__ void cross_entropy_forward(float* row_loss, const T* logits, const int* labels, int n, int vocab, int ignore_index) {
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    const int label = labels[row];
    if (label == ignore_index) {
      if (threadIdx.x == 0) row_loss[row] = 0.0f;
      continue;
    }
    const T* xr = logits + row * vocab;
    const SoftmaxStats st = row_softmax_stats(xr, vocab);
    if (threadIdx.x == 0) {
      row_loss[row] = (label >= 0 && label < vocab) ? st.m + logf(st.s) - to_float(xr[label]) : NAN;
    }
  }
}

// dlogits = scale * (softmax(logits) - onehot(label)) on counted rows, 0 on ignored ones (NaN for
// a label out of range, as in the forward).
// dlogits may equal logits: the whole row is read by the first pass, which ends at
// block_softmax's barrier, before any thread writes; in the second pass a thread reads x_j and
// then writes j itself.
template <typename T>
__device__ void cross_entropy_backward(T* dlogits, const T* logits, const int* labels, int n, int vocab, int ignore_index, float scale) {
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    const int label = labels[row];
    T* dr = dlogits + row * vocab;
    if (label == ignore_index) {
      for (int j = threadIdx.x; j < vocab; j += blockDim.x) dr[j] = from_float<T>(0.0f);
      continue;
    }
    const T* xr = logits + row * vocab;
    const SoftmaxStats st = row_softmax_stats(xr, vocab);
    const bool valid = label >= 0 && label < vocab;
    for (int j = threadIdx.x; j < vocab; j += blockDim.x) {
      const float p = expf(to_float(xr[j]) - st.m) / st.s;
      dr[j] = from_float<T>(valid ? scale * (p - (j == label ? 1.0f : 0.0f)) : NAN);
    }
  }
}

}  // namespace lora4j

LORA4J_EXPORT(cross_entropy_forward, (float* row_loss, const T* logits, const int* labels, int n, int vocab, int ignore_index),
              (row_loss, logits, labels, n, vocab, ignore_index))
LORA4J_EXPORT(cross_entropy_backward,
              (T* dlogits, const T* logits, const int* labels, int n, int vocab, int ignore_index, float scale),
              (dlogits, logits, labels, n, vocab, ignore_index, scale))
