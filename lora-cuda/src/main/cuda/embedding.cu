// Token embedding lookup, forward only: the embedding table is frozen in LoRA training, and the
// gradient stops at the first decoder layer's input.
#include "common.cuh"

namespace lora4j {

// out[i, :] = table[ids[i], :]. A pure copy in T; ids are validated on the host.
template <typename T>
__device__ void embedding_forward(T* out, const T* table, const int* ids, int n, int d) {
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    const T* src = table + (long long)ids[row] * d;
    T* dst = out + row * d;
    for (int j = threadIdx.x; j < d; j += blockDim.x) dst[j] = src[j];
  }
}

}  // namespace lora4j

LORA4J_EXPORT(embedding_forward, (T* out, const T* table, const int* ids, int n, int d), (out, table, ids, n, d))
