#!/usr/bin/env bash
# Compiles lora4j's CUDA kernels (src/main/cuda/lora4j_kernels.cu, which includes every layer's
# file) into one fatbin: usage build-kernels.sh OUT_FILE. Maven runs it in generate-resources;
# it does nothing when OUT_FILE is newer than every kernel source and both scripts.
#
# Targets: SASS for Ampere (sm_80, sm_86), Ada (sm_89) and Hopper (sm_90), plus compute_90 PTX
# that the driver JIT-compiles for newer GPUs. Precise math on purpose (no --use_fast_math):
# the GPU backend's results are checked against the CPU backend's within stated bounds.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_FILE" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$here/src/main/cuda

. "$here/find-nvcc.sh"

if [ -f "$out" ] && [ -z "$(find "$src" "$here/build-kernels.sh" "$here/find-nvcc.sh" -newer "$out" -print -quit)" ]; then
  echo "lora-cuda: $out is up to date"
  exit 0
fi

mkdir -p "$(dirname "$out")"
# Write beside the target and rename, so an interrupted build never leaves a fatbin that looks
# newer than its sources.
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
"$nvcc" -fatbin -O3 -std=c++17 -lineinfo \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_86,code=sm_86 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -o "$tmp" "$src/lora4j_kernels.cu"
mv -f "$tmp" "$out"
echo "lora-cuda: built $out with $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -1) in $((SECONDS - start)) s"
