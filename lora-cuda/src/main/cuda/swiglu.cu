// SwiGLU, the gated activation of Llama's MLP: out = silu(gate) * up, forward and backward.
#include "common.cuh"

namespace lora4j {

// silu(g) = g / (1 + exp(-g)). For g -> -inf, exp(-g) overflows to inf and the quotient is -0,
// the right limit; no clamping needed.
template <typename T>
__device__ void swiglu_forward(T* out, const T* gate, const T* up, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const float g = to_float(gate[i]);
    out[i] = from_float<T>(g / (1.0f + expf(-g)) * to_float(up[i]));
  }
}

// With s = sigmoid(g): d silu / dg = s + g * s * (1 - s) = s * (1 + g * (1 - s)), so
// dgate = dout * up * s * (1 + g * (1 - s)) and dup = dout * silu(g).
// dgate and dup may alias any of the inputs: each thread reads all three at i before writing i.
template <typename T>
__device__ void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const float g = to_float(gate[i]), u = to_float(up[i]), dy = to_float(dout[i]);
    const float e = 1.0f + expf(-g);
    const float s = 1.0f / e;
    dup[i] = from_float<T>(dy * (g / e));
    dgate[i] = from_float<T>(dy * u * s * (1.0f + g * (1.0f - s)));
  }
}

}  // namespace lora4j

LORA4J_EXPORT(swiglu_forward, (T* out, const T* gate, const T* up, long long n), (out, gate, up, n))
LORA4J_EXPORT(swiglu_backward, (T* dgate, T* dup, const T* dout, const T* gate, const T* up, long long n),
              (dgate, dup, dout, gate, up, n))
