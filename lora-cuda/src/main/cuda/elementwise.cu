// Elementwise ops and full reductions over flat tensors: the residual add, gradient accumulation
// and scaling, axpy, bias add, sums (of squares for gradient clipping, of row losses for the
// cross-entropy) and dtype casts. Every kernel is a grid-stride loop over a 64-bit n, so any
// grid and block size computes the whole tensor.
#include "common.cuh"

namespace lora4j {

// out = a + b. out may equal a or b.
template <typename T>
__device__ void add(T* out, const T* a, const T* b, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) out[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));
}

// acc += x.
template <typename T>
__device__ void add_inplace(T* acc, const T* x, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) acc[i] = from_float<T>(to_float(acc[i]) + to_float(x[i]));
}

// x *= alpha.
template <typename T>
__device__ void scale_inplace(T* x, float alpha, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) x[i] = from_float<T>(to_float(x[i]) * alpha);
}

// y += alpha * x, in fp32 and rounded once (the compiler may fuse it into one FMA).
template <typename T>
__device__ void axpy(float alpha, const T* x, T* y, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) y[i] = from_float<T>(to_float(y[i]) + alpha * to_float(x[i]));
}

// out[r, j] += bias[j] over out [rows, d].
template <typename T>
__device__ void bias_add(T* out, const T* bias, long long rows, int d) {
  for_each_index(rows * d, [&](auto i) {
    using I = decltype(i);
    out[i] = from_float<T>(to_float(out[i]) + to_float(bias[i % (I)d]));
  });
}

// *out += sum of f(x[i]) in fp32: a per-thread partial over the grid-stride loop, a block
// reduction, then one atomicAdd a block, so the caller zeroes *out first and may sum several
// tensors into one scalar (e.g. every LoRA gradient's squares for the global norm). The order of
// the blocks' atomics varies, so the last bits of the result may vary from run to run.
template <typename T, bool SQUARE>
__device__ void reduce_sum(float* out, const T* x, long long n) {
  float acc = 0.0f;
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const float v = to_float(x[i]);
    acc += SQUARE ? v * v : v;
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) atomicAdd(out, acc);
}

template <typename T>
__device__ void sum_squares(float* out, const T* x, long long n) {
  reduce_sum<T, true>(out, x, n);
}

// dst = src converted; widening is exact and narrowing rounds once to nearest even (bf16 <-> f16
// goes through fp32, which holds both exactly, so that is still a single rounding).
template <typename SRC, typename DST>
__device__ void cast(DST* dst, const SRC* src, long long n) {
  for (long long i = global_thread(); i < n; i += grid_threads()) dst[i] = from_float<DST>(to_float(src[i]));
}

}  // namespace lora4j

LORA4J_EXPORT(add, (T* out, const T* a, const T* b, long long n), (out, a, b, n))
LORA4J_EXPORT(add_inplace, (T* acc, const T* x, long long n), (acc, x, n))
LORA4J_EXPORT(scale_inplace, (T* x, float alpha, long long n), (x, alpha, n))
LORA4J_EXPORT(axpy, (float alpha, const T* x, T* y, long long n), (alpha, x, y, n))
LORA4J_EXPORT(bias_add, (T* out, const T* bias, long long rows, int d), (out, bias, rows, d))
LORA4J_EXPORT(sum_squares, (float* out, const T* x, long long n), (out, x, n))

// Plain sums are only needed in fp32 (the per-row losses), so this one has a single name.
extern "C" __global__ void __launch_bounds__(1024) sum_f32(float* out, const float* x, long long n) {
  lora4j::reduce_sum<float, false>(out, x, n);
}

#define LORA4J_EXPORT_CAST(SRC_NAME, SRC_TYPE, DST_NAME, DST_TYPE)                                          \
  extern "C" __global__ void __launch_bounds__(1024) cast_##SRC_NAME##_##DST_NAME(DST_TYPE* dst, const SRC_TYPE* src, \
                                                                                long long n) {               \
    lora4j::cast<SRC_TYPE, DST_TYPE>(dst, src, n);                                                           \
  }

LORA4J_EXPORT_CAST(f32, float, bf16, __nv_bfloat16)
LORA4J_EXPORT_CAST(f32, float, f16, __half)
LORA4J_EXPORT_CAST(bf16, __nv_bfloat16, f32, float)
LORA4J_EXPORT_CAST(bf16, __nv_bfloat16, f16, __half)
LORA4J_EXPORT_CAST(f16, __half, f32, float)
LORA4J_EXPORT_CAST(f16, __half, bf16, __nv_bfloat16)
