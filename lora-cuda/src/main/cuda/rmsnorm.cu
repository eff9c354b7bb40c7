// RMSNorm as Llama has it, forward and backward (the weight is frozen, so no weight gradient).
// One block a row; the per-row reciprocal RMS is saved by the forward for the backward.
#include "common.cuh"

namespace lora4j {

// out = weight * T(x * rstd), rstd = 1 / sqrt(mean(x^2) + eps), statistics in fp32.
// transformers' LlamaRMSNorm normalises in fp32, casts to the input dtype, then multiplies by the
// weight in that dtype; the round_to<T> reproduces that cast. For T = float it is the identity.
// rstd is 1 / sqrtf rather than rsqrtf: without fast math the square root and the division are
// each correctly rounded, while rsqrtf is only within 2 ulp.
template <typename T>
__device__ void rmsnorm_forward(T* out, float* rstd, const T* x, const T* weight, int n, int d, float eps) {
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    const T* xr = x + row * d;
    T* outr = out + row * d;
    float ss = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      const float v = to_float(xr[j]);
      ss += v * v;
    }
    ss = block_sum(ss);
    const float r = 1.0f / sqrtf(ss / (float)d + eps);
    if (threadIdx.x == 0) rstd[row] = r;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      outr[j] = from_float<T>(to_float(weight[j]) * round_to<T>(to_float(xr[j]) * r));
    }
  }
}

// dx_j = rstd * w_j * dy_j - x_j * rstd^3 * mean_k(w_k * dy_k * x_k): the derivative of
// y = w * x * rstd(x), with d rstd / d x_j = -x_j * rstd^3 / d. The cast in the forward is treated
// as the identity, as autograd does.
// dx may alias dout or x: every read of the row is done before block_sum's barrier, and the write
// loop reads element j only in the thread that then writes it.
template <typename T>
__device__ void rmsnorm_backward(T* dx, const T* dout, const T* x, const T* weight, const float* rstd, int n, int d) {
  for (long long row = blockIdx.x; row < n; row += gridDim.x) {
    const T* xr = x + row * d;
    const T* dyr = dout + row * d;
    T* dxr = dx + row * d;
    float dot = 0.0f;
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      dot += to_float(weight[j]) * to_float(dyr[j]) * to_float(xr[j]);
    }
    dot = block_sum(dot);
    const float r = rstd[row];
    const float c = r * r * r * (dot / (float)d);
    for (int j = threadIdx.x; j < d; j += blockDim.x) {
      dxr[j] = from_float<T>(r * to_float(weight[j]) * to_float(dyr[j]) - to_float(xr[j]) * c);
    }
  }
}

}  // namespace lora4j

LORA4J_EXPORT(rmsnorm_forward, (T* out, float* rstd, const T* x, const T* weight, int n, int d, float eps),
              (out, rstd, x, weight, n, d, eps))
LORA4J_EXPORT(rmsnorm_backward, (T* dx, const T* dout, const T* x, const T* weight, const float* rstd, int n, int d),
              (dx, dout, x, weight, rstd, n, d))
