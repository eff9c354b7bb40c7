#!/usr/bin/env bash
# Builds and runs kernel_check (see kernel_check.cu), in lora-cuda/target/kernel-check.
#   run-kernel-check.sh            on a GPU machine: the fatbin, as the Java backend loads it
#   run-kernel-check.sh --large    the same plus tensors over 2^32 elements (about 17 GB)
#   run-kernel-check.sh --emulate  anywhere: the kernels' source as fibers on the host (Maven's test phase)
set -euo pipefail
module=$(cd "$(dirname "$0")/../../.." && pwd)
. "$module/find-nvcc.sh"
work=$module/target/kernel-check
mkdir -p "$work"
check=$module/src/test/cuda/kernel_check.cu
if [ "${1:-}" = "--emulate" ]; then
  # nvcc only drives the host compiler here, with CUDA's headers (cuda_bf16.h) on the path;
  # --export-dynamic lets the check find the kernels by name with dlsym.
  "$nvcc" -std=c++20 -O2 -x c++ -DLORA4J_EMULATE -Xlinker --export-dynamic -o "$work/kernel_check_emulated" "$check"
  exec "$work/kernel_check_emulated"
fi
"$module/build-kernels.sh" "$work/lora4j_kernels.fatbin"
"$nvcc" -std=c++17 -O2 -o "$work/kernel_check" "$check"
exec "$work/kernel_check" "$work/lora4j_kernels.fatbin" "$@"
