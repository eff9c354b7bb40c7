// Rotary position embedding in place, with transformers' rotate_half pairing: element j of a head
// rotates with element j + D/2 (not with its neighbour, as in the original RoPE paper). The
// inverse rotation (angle negated) is the backward, since a rotation's transpose is its inverse.
#include "common.cuh"

namespace lora4j {

// x is [n, heads, head_dim]; one block a token. Thread t walks pairs p = t, t + blockDim, ...
// with p = head * half + j. When blockDim is a multiple of half (256 and Llama's 64), j is the
// same on every step, so the cos/sin are computed once a thread rather than once a pair.
// angle = float(pos) * inv_freq[j] is one fp32 multiply, as transformers' fp32 matmul of
// inv_freq by positions is; sincosf is the precise one (no fast math), correct for the
// large angles (pos ~ 10^5 rad) of long contexts.
template <typename T>
__device__ void rope(T* x, const int* positions, const float* inv_freq, int n, int heads, int head_dim, int inverse) {
  const int half = head_dim / 2;
  const int pairs = heads * half;
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    T* xr = x + row * heads * head_dim;
    const float pos = (float)positions[row];
    int cached_j = -1;
    float c = 0.0f, s = 0.0f;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
      const int h = p / half, j = p - h * half;
      if (j != cached_j) {
        const float angle = pos * inv_freq[j];
        sincosf(angle, &s, &c);
        if (inverse) s = -s;
        cached_j = j;
      }
      T* head = xr + h * head_dim;
      const float a = to_float(head[j]), b = to_float(head[j + half]);
      head[j] = from_float<T>(a * c - b * s);
      head[j + half] = from_float<T>(b * c + a * s);
    }
  }
}

}  // namespace lora4j

LORA4J_EXPORT(rope, (T* x, const int* positions, const float* inv_freq, int n, int heads, int head_dim, int inverse),
              (x, positions, inv_freq, n, heads, head_dim, inverse))
