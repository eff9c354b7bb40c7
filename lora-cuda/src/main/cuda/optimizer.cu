// Optimizer steps, one fused kernel per parameter tensor: AdamW and SGD with torch's single-tensor
// arithmetic (the order and rounding of every float operation as Backend's javadoc fixes it), and
// clipping by a global norm held on the device. Parameters, gradients and optimizer states are
// fp32; the per-step constants come from the host, each rounded to float once from the double
// torch computes in Python.
//
// nvcc would contract a * b + c into one FMA where torch rounds twice, so the products and sums
// that torch rounds are the _rn intrinsics, which are never contracted, and the FMAs torch's AVX2
// and AVX-512 CPU kernels do make (lerp_, add(alpha=), and addcmul_, which GCC contracts) are
// explicit fmaf. Division and sqrtf are IEEE
// round-to-nearest (no fast math), as on the CPU.
#include "common.cuh"

namespace lora4j {

// torch.maximum: NaN when either side is NaN.
__device__ __forceinline__ float max_nan(float a, float b) { return (a > b || a != a) ? a : b; }

// torch's Tensor.lerp_(end, weight) on the CPU, vectorised: one FMA from whichever end is nearer.
__device__ __forceinline__ float lerp(float self, float end, float weight) {
  const float diff = __fsub_rn(end, self);
  return weight < 0.5f ? fmaf(weight, diff, self) : fmaf(__fsub_rn(weight, 1.0f), diff, end);
}

// One AdamW update of p, m, v (and vmax for AMSGrad, else NULL) over n elements. decay = 1 - lr *
// weight_decay, w = 1 - beta1, b2 = beta2, c2 = 1 - beta2, bc2 = sqrt(1 - beta2^step), eps,
// step_size = -lr / (1 - beta1^step), grad_scale multiplies the gradient as it is read.
__device__ void adamw_step(float* p, const float* g, float* m, float* v, float* vmax, long long n, float decay, float w, float b2,
                           float c2, float bc2, float eps, float step_size, float grad_scale) {
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const float gi = __fmul_rn(g[i], grad_scale);
    const float pi = __fmul_rn(p[i], decay);
    const float mi = lerp(m[i], gi, w);
    const float vi = fmaf(__fmul_rn(c2, gi), gi, __fmul_rn(v[i], b2));
    float u = vi;
    if (vmax != nullptr) {
      u = max_nan(vmax[i], vi);
      vmax[i] = u;
    }
    const float denom = __fadd_rn(__fdiv_rn(sqrtf(u), bc2), eps);
    p[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(step_size, mi), denom));
    m[i] = mi;
    v[i] = vi;
  }
}

// ---- 8-bit state ------------------------------------------------------------------------------

constexpr int kQuantBlock = 256;   // DynamicQuantization.BLOCK_SIZE
constexpr int kSignedZero = 127;   // the signed code's 0
constexpr int kUnsignedZero = 0;   // the unsigned code's 0

// The byte whose code is nearest to x (a value divided by its block's absmax), as the Java
// DynamicQuantization.quantize: binary search for the last code <= x, then the upper neighbour when
// x is above the float midpoint of the two. code holds 256 ascending values.
__device__ __forceinline__ int quantize(float x, const float* code) {
  if (!(x > code[0])) return 0;
  if (x >= code[255]) return 255;
  int lo = 0, hi = 255;
  while (hi - lo > 1) {
    const int mid = (lo + hi) >> 1;
    if (code[mid] <= x) lo = mid;
    else hi = mid;
  }
  return x > __fmul_rn(__fadd_rn(code[lo], code[hi]), 0.5f) ? hi : lo;
}

// The maximum of v over the block (finite values), every thread receiving it; the structure of
// common.cuh's block_sum, with the same back-to-back guarantee.
__device__ __forceinline__ float block_max(float v) {
  __shared__ float partial[32];
  __shared__ float total;
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  const unsigned lanes = warp_lanes(), mask = lane_mask(lanes);
  for (unsigned offset = 16; offset > 0; offset >>= 1) {
    const float other = __shfl_down_sync(mask, v, offset);
    if (lane + offset < lanes) v = fmaxf(v, other);
  }
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? partial[lane] : 0.0f;
    for (unsigned offset = 16; offset > 0; offset >>= 1) {
      const float other = __shfl_down_sync(mask, v, offset);
      if (lane + offset < lanes) v = fmaxf(v, other);
    }
    if (lane == 0) total = v;
  }
  __syncthreads();
  return total;
}

// One AdamW update with 8-bit block-wise moments (Backend.adamw8bitStep): a thread block takes one
// quantisation block of 256 elements at a time (any blockDim up to 1024; threads past the block's
// elements only join the reductions). codes: the signed code's 256 floats, then the unsigned
// code's. The moments' new values wait in shared memory for the block's new absmax.
__device__ void adamw8bit_step(float* p, const float* g, unsigned char* mq, float* m_absmax, unsigned char* vq, float* v_absmax,
                               const float* codes, long long n, float decay, float w, float b2, float c2, float bc2, float eps,
                               float step_size, float grad_scale) {
  __shared__ float code_s[256], code_u[256], m_new[kQuantBlock], v_new[kQuantBlock];
  for (unsigned j = threadIdx.x; j < 256; j += blockDim.x) {
    code_s[j] = codes[j];
    code_u[j] = codes[256 + j];
  }
  __syncthreads();
  const long long blocks = (n + kQuantBlock - 1) / kQuantBlock;
  for (long long b = blockIdx.x; b < blocks; b += gridDim.x) {
    const long long first = b * kQuantBlock;
    const int len = n - first < kQuantBlock ? (int)(n - first) : kQuantBlock;
    const float m_scale = m_absmax[b], v_scale = v_absmax[b];
    float m_max = 0.0f, v_max = 0.0f;
    for (int j = threadIdx.x; j < len; j += blockDim.x) {
      const long long i = first + j;
      const float gi = __fmul_rn(g[i], grad_scale);
      const float pi = __fmul_rn(p[i], decay);
      const float mi = lerp(__fmul_rn(code_s[mq[i]], m_scale), gi, w);
      const float vi = fmaf(__fmul_rn(c2, gi), gi, __fmul_rn(__fmul_rn(code_u[vq[i]], v_scale), b2));
      const float denom = __fadd_rn(__fdiv_rn(sqrtf(vi), bc2), eps);
      p[i] = __fadd_rn(pi, __fdiv_rn(__fmul_rn(step_size, mi), denom));
      m_new[j] = mi;
      v_new[j] = vi;
      m_max = fmaxf(m_max, fabsf(mi));
      v_max = fmaxf(v_max, vi);
    }
    m_max = block_max(m_max);
    v_max = block_max(v_max);
    if (threadIdx.x == 0) {
      m_absmax[b] = m_max;
      v_absmax[b] = v_max;
    }
    for (int j = threadIdx.x; j < len; j += blockDim.x) {
      const long long i = first + j;
      mq[i] = (unsigned char)(m_max == 0.0f ? kSignedZero : quantize(__fdiv_rn(m_new[j], m_max), code_s));
      vq[i] = (unsigned char)(v_max == 0.0f ? kUnsignedZero : quantize(__fdiv_rn(v_new[j], v_max), code_u));
    }
    // m_new and v_new are rewritten by the next block.
    __syncthreads();
  }
}

// One SGD update of p (and buf, NULL without momentum): wd = weight_decay, mu = momentum, c = 1 -
// dampening, a = -lr; flags: bit 0 weight decay, bit 1 momentum, bit 2 Nesterov, bit 3 first step
// (buf = g, as torch clones the gradient into a new buffer).
__device__ void sgd_step(float* p, const float* g, float* buf, long long n, float wd, float mu, float c, float a, int flags,
                         float grad_scale) {
  const bool decay = flags & 1, momentum = flags & 2, nesterov = flags & 4, first = flags & 8;
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const float pi = p[i];
    float gi = __fmul_rn(g[i], grad_scale);
    if (decay) gi = fmaf(wd, pi, gi);
    if (momentum) {
      const float b = first ? gi : fmaf(c, gi, __fmul_rn(buf[i], mu));
      buf[i] = b;
      gi = nesterov ? fmaf(mu, b, gi) : b;
    }
    p[i] = fmaf(a, gi, pi);
  }
}

// x *= min(1, (1 / (sqrt(*sum_squares) + 1e-6)) * max_norm): clip_grad_norm_'s coefficient, which
// torch computes as a reciprocal times max_norm. Every thread reads the norm, so nothing returns
// to the host; NaN stays NaN through the min (torch's clamp), and a coefficient of 1 writes nothing.
template <typename T>
__device__ void clip_by_norm(T* x, const float* sum_squares, float max_norm, long long n) {
  float coef = __fmul_rn(__fdiv_rn(1.0f, __fadd_rn(sqrtf(*sum_squares), 1e-6f)), max_norm);
  coef = coef > 1.0f ? 1.0f : coef;
  if (coef == 1.0f) return;
  for (long long i = global_thread(); i < n; i += grid_threads()) x[i] = from_float<T>(to_float(x[i]) * coef);
}

}  // namespace lora4j

LORA4J_EXPORT(clip_by_norm, (T* x, const float* sum_squares, float max_norm, long long n), (x, sum_squares, max_norm, n))

// Optimizer state is fp32 whatever the model's dtype, so these have one name each.
extern "C" __global__ void __launch_bounds__(1024) adamw_step_f32(float* p, const float* g, float* m, float* v, float* vmax, long long n,
                                                                  float decay, float w, float b2, float c2, float bc2, float eps,
                                                                  float step_size, float grad_scale) {
  lora4j::adamw_step(p, g, m, v, vmax, n, decay, w, b2, c2, bc2, eps, step_size, grad_scale);
}

extern "C" __global__ void __launch_bounds__(1024) adamw8bit_step_f32(float* p, const float* g, unsigned char* mq, float* m_absmax,
                                                                      unsigned char* vq, float* v_absmax, const float* codes, long long n,
                                                                      float decay, float w, float b2, float c2, float bc2, float eps,
                                                                      float step_size, float grad_scale) {
  lora4j::adamw8bit_step(p, g, mq, m_absmax, vq, v_absmax, codes, n, decay, w, b2, c2, bc2, eps, step_size, grad_scale);
}

extern "C" __global__ void __launch_bounds__(1024) sgd_step_f32(float* p, const float* g, float* buf, long long n, float wd, float mu,
                                                                float c, float a, int flags, float grad_scale) {
  lora4j::sgd_step(p, g, buf, n, wd, mu, c, a, flags, grad_scale);
}
