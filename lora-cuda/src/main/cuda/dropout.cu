// Inverted dropout with a stateless mask: keep element i iff dropout_draw(seed, i) >= threshold,
// so the backward (the same kernel on dout, same seed) and the CPU backend's DropoutMask draw the
// same mask without storing it.
#include "common.cuh"

namespace lora4j {

// out = x * (keep(i) ? scale : 0), so a dropped negative x gives -0 exactly as the CPU backend, with threshold = round(p * 2^32) and scale = 1 / (1 - p) from the
// host. i is the flat row-major index of the element, as DropoutMask counts it.
// out may equal x: element i is read and written by one thread.
template <typename T>
__device__ void dropout(T* out, const T* x, long long n, unsigned long long seed, unsigned long long threshold, float scale) {
  for (long long i = global_thread(); i < n; i += grid_threads()) {
    const bool keep = dropout_draw(seed, (unsigned long long)i) >= threshold;
    out[i] = from_float<T>(to_float(x[i]) * (keep ? scale : 0.0f));
  }
}

}  // namespace lora4j

LORA4J_EXPORT(dropout, (T* out, const T* x, long long n, unsigned long long seed, unsigned long long threshold, float scale),
              (out, x, n, seed, threshold, scale))
