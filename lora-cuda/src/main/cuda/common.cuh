// Shared pieces of lora4j's kernels: storage-type conversion (fp32 <-> bf16 / f16, round to nearest
// even), warp and block reductions, grid-stride loops, the dropout hash, and the macros that export
// each kernel template under its three dtype names (_f32, _bf16, _f16).
//
// Every kernel stores tensors in T but computes in fp32: loads widen with to_float, stores narrow
// with from_float<T>, so each output is rounded to T once (RMSNorm adds the one intermediate
// rounding that transformers has).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace lora4j {

// ---- storage types --------------------------------------------------------------------------

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

// The _rn intrinsics compile to cvt.rn on sm_80+: IEEE round to nearest even, overflow to +-inf,
// subnormals kept, NaN stays NaN. Widening is exact.
template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

// v as it would read back after a store to T: for an intermediate cast that the reference
// implementation has (transformers' RMSNorm casts before the weight multiply).
template <typename T> __device__ __forceinline__ float round_to(float v) { return to_float(from_float<T>(v)); }

// ---- loops ----------------------------------------------------------------------------------

// Flat indices are 64-bit: a [N, vocab] logits tensor or a [B*H, T, T] score tensor passes 2^31
// elements at realistic sizes.
__device__ __forceinline__ long long global_thread() { return (long long)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ long long grid_threads() { return (long long)gridDim.x * blockDim.x; }

// A grid-stride loop calling body(i) for i in [0, n), for kernels that split i into coordinates by
// division. GPUs have no integer divider and a 64-bit division costs several 32-bit ones, so i is
// a 32-bit unsigned whenever n plus one stride fits (any tensor under 4G elements); else a long
// long. body is a generic lambda: its index type is decltype(i).
template <typename Body>
__device__ __forceinline__ void for_each_index(long long n, Body body) {
  const long long stride = grid_threads();
  if (n + stride <= 0xffffffffLL) {
    for (unsigned i = (unsigned)global_thread(); i < (unsigned)n; i += (unsigned)stride) body(i);
  } else {
    for (long long i = global_thread(); i < n; i += stride) body(i);
  }
}

// ---- reductions -----------------------------------------------------------------------------
// Block reductions for any blockDim.x up to 1024, a multiple of 32 or not; every thread receives
// the result. Each warp reduces into its lane 0 with guarded shuffles (a last, partial warp
// shuffles among the lanes it has), warp 0 reduces the warps' partials, and shared memory
// broadcasts the total. Back-to-back calls need no barrier of their own: warp 0 reads the
// partials before the last barrier of a call, which every writer of the next call has passed,
// and every thread reads the total before reaching the next call's first barrier, after which
// the next total is written.

// The lanes of this thread's warp that exist: 32, except in a last, partial warp.
__device__ __forceinline__ unsigned warp_lanes() { return min(32u, blockDim.x - (threadIdx.x & ~31u)); }

__device__ __forceinline__ unsigned lane_mask(unsigned lanes) { return lanes == 32 ? 0xffffffffu : (1u << lanes) - 1; }

// The sum of v over the warp's lanes, complete in lane 0.
__device__ __forceinline__ float warp_sum(float v, unsigned lanes) {
  const unsigned mask = lane_mask(lanes), lane = threadIdx.x & 31;
  for (unsigned offset = 16; offset > 0; offset >>= 1) {
    const float other = __shfl_down_sync(mask, v, offset);
    if (lane + offset < lanes) v += other;
  }
  return v;
}

__device__ __forceinline__ float block_sum(float v) {
  __shared__ float partial[32];
  __shared__ float total;
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v, warp_lanes());
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_sum(lane < warps ? partial[lane] : 0.0f, warp_lanes());
    if (lane == 0) total = v;
  }
  __syncthreads();
  return total;
}

// A running softmax normaliser: max m of the values seen and sum s of exp(value - m). Merging two
// rescales the smaller side's sum, so one pass over a row gives both (the online softmax of
// Milakov & Gimelshein, 2018). m = -inf with s = 0 is the empty state.
struct SoftmaxStats {
  float m;
  float s;
};

__device__ __forceinline__ SoftmaxStats softmax_empty() { return {-INFINITY, 0.0f}; }

__device__ __forceinline__ SoftmaxStats softmax_add(SoftmaxStats a, float v) {
  if (v > a.m) {
    // exp(-inf - v) is 0, so the empty state needs no special case here.
    a.s = a.s * expf(a.m - v) + 1.0f;
    a.m = v;
  } else if (v != -INFINITY) {  // a -inf value adds nothing, and exp(-inf - -inf) would be NaN
    a.s += expf(v - a.m);
  }
  return a;
}

__device__ __forceinline__ SoftmaxStats softmax_merge(SoftmaxStats a, SoftmaxStats b) {
  const float m = fmaxf(a.m, b.m);
  // Both without a finite value: exp(-inf - -inf) would be NaN, so add the sums directly, which
  // keeps a NaN that one side met (NaN never raises m) and is 0 for two empty sides.
  if (m == -INFINITY) return {m, a.s + b.s};
  return {m, a.s * expf(a.m - m) + b.s * expf(b.m - m)};
}

// The merged statistics of the warp's lanes, complete in lane 0.
__device__ __forceinline__ SoftmaxStats warp_softmax(SoftmaxStats a, unsigned lanes) {
  const unsigned mask = lane_mask(lanes), lane = threadIdx.x & 31;
  for (unsigned offset = 16; offset > 0; offset >>= 1) {
    const SoftmaxStats b = {__shfl_down_sync(mask, a.m, offset), __shfl_down_sync(mask, a.s, offset)};
    if (lane + offset < lanes) a = softmax_merge(a, b);
  }
  return a;
}

__device__ __forceinline__ SoftmaxStats block_softmax(SoftmaxStats a) {
  __shared__ float partial_m[32];
  __shared__ float partial_s[32];
  __shared__ SoftmaxStats total;
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  a = warp_softmax(a, warp_lanes());
  if (lane == 0) {
    partial_m[warp] = a.m;
    partial_s[warp] = a.s;
  }
  __syncthreads();
  if (warp == 0) {
    a = warp_softmax(lane < warps ? SoftmaxStats{partial_m[lane], partial_s[lane]} : softmax_empty(), warp_lanes());
    if (lane == 0) total = a;
  }
  __syncthreads();
  return total;
}

// ---- dropout --------------------------------------------------------------------------------

// SplitMix64's finaliser of seed + (index + 1) * golden gamma, upper 32 bits: bit for bit the
// Java DropoutMask.draw, whose signed longs wrap exactly as these unsigned ones do and whose >>>
// is this logical shift. __host__ too, so a host test can check it against the Java values.
__host__ __device__ __forceinline__ unsigned long long dropout_draw(unsigned long long seed, unsigned long long index) {
  unsigned long long z = seed + (index + 1ull) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  return z >> 32;
}

}  // namespace lora4j

// ---- exports --------------------------------------------------------------------------------
// LORA4J_EXPORT(name, (params), (args)) emits name_f32, name_bf16 and name_f16: extern "C" kernels
// (unmangled, so cuModuleGetFunction finds them by name) that call the device template
// lora4j::name<T>. The params are written in terms of T, which each wrapper's namespace binds.
//
// __launch_bounds__(1024) caps registers at 64 a thread so that any launch of up to 1024 threads
// fits on every target; without it a 1024-thread launch of a register-hungry kernel fails with
// CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES.
#define LORA4J_EXPORT_AS(NAME, SUFFIX, TYPE, PARAMS, ARGS)                                        \
  namespace lora4j::exported_##SUFFIX {                                                          \
  using T = TYPE;                                                                                \
  extern "C" __global__ void __launch_bounds__(1024) NAME##_##SUFFIX PARAMS { lora4j::NAME<T> ARGS; } \
  }

#define LORA4J_EXPORT(NAME, PARAMS, ARGS)                \
  LORA4J_EXPORT_AS(NAME, f32, float, PARAMS, ARGS)       \
  LORA4J_EXPORT_AS(NAME, bf16, __nv_bfloat16, PARAMS, ARGS) \
  LORA4J_EXPORT_AS(NAME, f16, __half, PARAMS, ARGS)
