# Sourced by build-kernels.sh and src/test/cuda/run-kernel-check.sh: sets $nvcc to the CUDA
# compiler ($CUDACXX, then nvcc on PATH, then /usr/local/cuda/bin/nvcc), or explains and exits 1.
nvcc=
if [ -n "${CUDACXX:-}" ]; then
  # A CUDACXX that names no program is a mistake to report, not a reason to pick another nvcc.
  nvcc=$(command -v "$CUDACXX" || true)
  if [ -z "$nvcc" ]; then
    echo "lora-cuda: CUDACXX=$CUDACXX is not an executable nvcc" >&2
    exit 1
  fi
elif command -v nvcc >/dev/null 2>&1; then
  nvcc=$(command -v nvcc)
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  nvcc=/usr/local/cuda/bin/nvcc
fi
if [ -z "$nvcc" ]; then
  echo "lora-cuda: nvcc not found. Install the CUDA toolkit (e.g. Debian/NVIDIA package cuda-nvcc-13-0 or cuda-toolkit), or point CUDACXX at nvcc. Build without the GPU backend's kernels: -Dcuda.skip=true" >&2
  exit 1
fi
