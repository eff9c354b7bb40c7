// kernel_check's backend without a GPU: compiles the kernels' own source as host C++ and runs a
// block's threads as fibers (ucontext) on one host thread, so the index math, masks, reductions
// and in-place orderings of every kernel are checked where no GPU exists (CI). __syncthreads is
// a block-wide barrier and a warp shuffle an exchange through a per-warp buffer between two
// warp-wide barriers, the lockstep the kernels rely on; a fiber waiting at a barrier yields to
// the next. A block whose threads stop at different barriers is reported as a deadlock, where a
// GPU would hang or corrupt memory. Host libm replaces CUDA's math functions (both within a few
// ulp), so the tolerances are the GPU run's. Not covered: the fatbin, register limits, the memory
// model beyond barriers, the exact rounding of CUDA's expf, logf and sincosf.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <dlfcn.h>
#include <math.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

// The CUDA keywords the kernels use, as host C++ (the headers above defined them for a host
// compiler as attributes).
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(threads)
// One block runs at a time, so a function-local static is that block's shared memory.
#define __shared__ static

struct EmulatedDim {
  unsigned x = 1, y = 1, z = 1;
};
// One host thread runs every fiber, and the scheduler sets threadIdx before resuming each.
inline EmulatedDim threadIdx, blockIdx, blockDim, gridDim;

namespace emulation {

constexpr size_t kStackBytes = 64 * 1024;

struct Fiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  bool done = false;
  // While at a barrier: its generation counter and the value that counter had on arrival. The
  // scheduler resumes the fiber only once the counter has moved on.
  const unsigned* waiting_on = nullptr;
  unsigned arrived_at = 0;
};

inline ucontext_t scheduler;
inline std::vector<Fiber> fibers;
inline unsigned current;
inline std::function<void()> body;

inline unsigned block_arrived, block_generation;
inline unsigned warp_arrived[32], warp_generation[32];
inline float warp_exchange[32][32];

inline void yield() { swapcontext(&fibers[current].context, &scheduler); }

inline void fiber_main() {
  body();
  fibers[current].done = true;
}  // returns to the scheduler through uc_link

// Waits until `count` threads have arrived at the barrier counted by arrived/generation.
inline void barrier(unsigned& arrived, unsigned& generation, unsigned count) {
  if (++arrived == count) {
    arrived = 0;
    ++generation;
    return;
  }
  fibers[current].waiting_on = &generation;
  fibers[current].arrived_at = generation;
  yield();
  fibers[current].waiting_on = nullptr;
}

inline void warp_barrier() {
  const unsigned warp = threadIdx.x >> 5;
  emulation::barrier(warp_arrived[warp], warp_generation[warp], std::min(32u, blockDim.x - warp * 32));
}

// Runs one block: every thread a fiber, resumed in turn until all have returned.
inline void run_block(unsigned threads) {
  if (fibers.size() < threads) {
    fibers.resize(threads);
    for (auto& f : fibers)
      if (!f.stack) f.stack.reset(new char[kStackBytes]);
  }
  block_arrived = 0;
  std::fill(std::begin(warp_arrived), std::end(warp_arrived), 0u);
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = fibers[t];
    f.done = false;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.get();
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &scheduler;
    makecontext(&f.context, fiber_main, 0);
  }
  for (unsigned live = threads; live > 0;) {
    unsigned resumed = 0;
    live = 0;
    for (unsigned t = 0; t < threads; ++t) {
      Fiber& f = fibers[t];
      if (f.done) continue;
      if (f.waiting_on == nullptr || *f.waiting_on != f.arrived_at) {
        current = t;
        threadIdx = {t, 0, 0};
        swapcontext(&scheduler, &f.context);
        ++resumed;
      }
      live += !f.done;
    }
    if (live > 0 && resumed == 0) {
      std::fprintf(stderr, "FATAL deadlock: %u threads of block %u wait at barriers that the others never reach\n", live, blockIdx.x);
      std::exit(2);
    }
  }
}

}  // namespace emulation

inline void __syncthreads() { emulation::barrier(emulation::block_arrived, emulation::block_generation, blockDim.x); }

inline float __shfl_down_sync(unsigned, float v, unsigned offset) {
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const unsigned lanes = std::min(32u, blockDim.x - warp * 32);
  emulation::warp_exchange[warp][lane] = v;
  emulation::warp_barrier();
  // A source lane past the warp's last gives the caller's own value, as on the GPU.
  const float other = lane + offset < lanes ? emulation::warp_exchange[warp][lane + offset] : v;
  emulation::warp_barrier();
  return other;
}

inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }

// Fibers switch only at barriers, so a read-modify-write is atomic here.
inline float atomicAdd(float* address, float v) {
  const float old = *address;
  *address = old + v;
  return old;
}

inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }

#include "../../main/cuda/lora4j_kernels.cu"

// ---- the backend interface kernel_check uses

inline const char* backend_name() { return "host emulation"; }

inline bool open_backend(const char*) {
  std::printf("device: none; the kernels' source runs as fibers on the host (LORA4J_EMULATE)\n");
  return true;
}

inline void* device_alloc(size_t bytes) {
  void* p = std::malloc(std::max<size_t>(bytes, 1));
  if (p == nullptr) {
    std::fprintf(stderr, "FATAL out of host memory\n");
    std::exit(2);
  }
  return p;
}
inline void device_release(void* p) { std::free(p); }
inline void copy_to_device(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
inline void copy_to_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
inline void device_zero(void* dst, size_t bytes) { std::memset(dst, 0, bytes); }
inline size_t device_free_bytes() { return 0; }

// The exported kernels are found by name as the GPU backend finds them, here through the
// executable's dynamic symbol table (link with -rdynamic).
inline void* kernel_symbol(const std::string& name) {
  void* fn = dlsym(RTLD_DEFAULT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "FATAL kernel %s not found\n", name.c_str());
    std::exit(2);
  }
  return fn;
}

inline std::set<std::string> exported_kernels(const std::vector<std::string>& expected) {
  std::set<std::string> present;
  for (const auto& name : expected)
    if (dlsym(RTLD_DEFAULT, name.c_str()) != nullptr) present.insert(name);
  return present;
}

// Calls the kernel with exactly the argument types given, as cuLaunchKernel's parameter array
// would pass them. Kernels are correct for any grid (they stride over rows or elements), so the
// grid is capped to keep the emulation fast; a capped grid also exercises those strides.
template <typename... Args>
inline void launch(const std::string& name, long long grid, int block, Args... args) {
  auto kernel = reinterpret_cast<void (*)(Args...)>(kernel_symbol(name));
  const unsigned blocks = (unsigned)std::min<long long>(grid, 3);
  blockDim = {(unsigned)block, 1, 1};
  gridDim = {blocks, 1, 1};
  emulation::body = [=] { kernel(args...); };
  for (unsigned b = 0; b < blocks; ++b) {
    blockIdx = {b, 0, 0};
    emulation::run_block((unsigned)block);
  }
}
