// kernel_check's backend on a GPU: the fatbin loaded and launched through the same driver calls as
// the Java backend's (cuModuleLoadData, cuModuleGetFunction by name, cuLaunchKernel with a
// parameter array). The driver's entry points come through the runtime, so that linking needs
// no libcuda (none exists on a machine without a driver).
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace gpu {
inline decltype(&cuModuleLoadData) module_load_data;
inline decltype(&cuModuleGetFunction) module_get_function;
inline decltype(&::cuLaunchKernel) launch_kernel;
inline decltype(&cuModuleGetFunctionCount) module_get_function_count;
inline decltype(&cuModuleEnumerateFunctions) module_enumerate_functions;
inline decltype(&cuFuncGetName) func_get_name;
inline CUmodule module;

inline void runtime_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "FATAL %s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}

inline void driver_ok(CUresult r, const char* what) {
  if (r != CUDA_SUCCESS) {
    std::fprintf(stderr, "FATAL %s: CUresult %d\n", what, (int)r);
    std::exit(2);
  }
}

template <typename F>
inline void entry(const char* name, F& fn) {
  cudaDriverEntryPointQueryResult status;
  runtime_ok(cudaGetDriverEntryPointByVersion(name, (void**)&fn, 12040, cudaEnableDefault, &status), name);
  if (status != cudaDriverEntryPointSuccess || fn == nullptr) {
    std::fprintf(stderr, "FATAL driver entry point %s not found\n", name);
    std::exit(2);
  }
}
}  // namespace gpu

inline const char* backend_name() { return "GPU"; }

// Loads the fatbin; false when there is no GPU.
inline bool open_backend(const char* fatbin) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) return false;
  cudaDeviceProp prop;
  gpu::runtime_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("device: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  gpu::runtime_ok(cudaFree(nullptr), "context");
  gpu::entry("cuModuleLoadData", gpu::module_load_data);
  gpu::entry("cuModuleGetFunction", gpu::module_get_function);
  gpu::entry("cuLaunchKernel", gpu::launch_kernel);
  gpu::entry("cuModuleGetFunctionCount", gpu::module_get_function_count);
  gpu::entry("cuModuleEnumerateFunctions", gpu::module_enumerate_functions);
  gpu::entry("cuFuncGetName", gpu::func_get_name);
  std::ifstream in(fatbin, std::ios::binary);
  std::vector<char> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (image.empty()) {
    std::fprintf(stderr, "FATAL cannot read %s\n", fatbin);
    std::exit(2);
  }
  gpu::driver_ok(gpu::module_load_data(&gpu::module, image.data()), "cuModuleLoadData");
  return true;
}

inline void* device_alloc(size_t bytes) {
  void* p = nullptr;
  gpu::runtime_ok(cudaMalloc(&p, std::max<size_t>(bytes, 1)), "cudaMalloc");
  return p;
}
inline void device_release(void* p) { cudaFree(p); }
inline void copy_to_device(void* dst, const void* src, size_t bytes) {
  gpu::runtime_ok(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "upload");
}
inline void copy_to_host(void* dst, const void* src, size_t bytes) {
  gpu::runtime_ok(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "download");
}
inline void device_zero(void* dst, size_t bytes) { gpu::runtime_ok(cudaMemset(dst, 0, bytes), "cudaMemset"); }
inline size_t device_free_bytes() {
  size_t free_b = 0, total_b = 0;
  gpu::runtime_ok(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  return free_b;
}

inline std::set<std::string> exported_kernels(const std::vector<std::string>&) {
  unsigned count = 0;
  gpu::driver_ok(gpu::module_get_function_count(&count, gpu::module), "cuModuleGetFunctionCount");
  std::vector<CUfunction> fns(count);
  gpu::driver_ok(gpu::module_enumerate_functions(fns.data(), count, gpu::module), "cuModuleEnumerateFunctions");
  std::set<std::string> present;
  for (CUfunction f : fns) {
    const char* name = nullptr;
    gpu::driver_ok(gpu::func_get_name(&name, f), "cuFuncGetName");
    present.insert(name);
  }
  return present;
}

// Launches a kernel by name with exactly the argument types given (int, long long, float,
// pointers): the parameter array is what the Java side builds. Synchronises, so that a fault is
// reported at the kernel that caused it.
template <typename... Args>
inline void launch(const std::string& name, long long grid, int block, Args... args) {
  CUfunction f;
  const CUresult found = gpu::module_get_function(&f, gpu::module, name.c_str());
  if (found != CUDA_SUCCESS) {
    std::fprintf(stderr, "FATAL kernel %s not in the fatbin (CUresult %d)\n", name.c_str(), (int)found);
    std::exit(2);
  }
  void* params[] = {(void*)&args...};
  gpu::driver_ok(gpu::launch_kernel(f, (unsigned)grid, 1, 1, (unsigned)block, 1, 1, 0, nullptr, params, nullptr), name.c_str());
  gpu::runtime_ok(cudaDeviceSynchronize(), name.c_str());
}
