// The one translation unit of lora4j's kernels: build-kernels.sh compiles this file into
// lora4j_kernels.fatbin, which the GPU backend loads with cuModuleLoadData and whose kernels it
// finds by name (KERNELS.md lists them). Each included file holds one layer's kernels.
#include "common.cuh"

#include "attention.cu"
#include "cross_entropy.cu"
#include "dropout.cu"
#include "elementwise.cu"
#include "embedding.cu"
#include "optimizer.cu"
#include "rmsnorm.cu"
#include "rope.cu"
#include "swiglu.cu"
