#!/usr/bin/env bash
# Compile check of `--features cuda` on a machine without a GPU: installs Debian's
# CUDA toolkit when nvcc is missing (as root, Debian bookworm: CUDA 11.8 from non-free), then
# builds xtask with the `cuda` feature into target/cuda, apart from the CPU build's target/.
# Idempotent: the apt steps run only while nvcc is missing, the component edit only once, and
# a second build is incremental.
#
#   xtask/scripts/cuda-build-check.sh        # exit 0: it builds; 2: no nvcc and no way to get it
#
# Environment:
#   CUDA_COMPUTE_CAP  compute capability the kernels are compiled for (candle-kernels asks
#                     nvidia-smi otherwise, which needs a GPU). Default 89: candle's build
#                     helper (cudaforge 0.1.6) turns 90 into `sm_90a`, which nvcc 11.8 rejects
#                     ("Unsupported gpu architecture 'compute_90a'", CUDA >= 12.0 has it);
#                     PTX for compute_89 is JIT-compiled by the driver on an H100/H200.
#   JOBS              cargo -j (default: every core).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-89}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/cuda}

if ! command -v nvcc >/dev/null; then
  if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
    echo "cuda-build-check: nvcc not found; install a CUDA toolkit (on Debian, run this script as root)" >&2
    exit 2
  fi
  # Debian's CUDA toolkit lives in the non-free component.
  sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ]; then
    grep -q '^Components:.*non-free' "$sources" ||
      sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$sources"
  else
    grep -q ' non-free' /etc/apt/sources.list ||
      sed -i 's/^\(deb .* main\)$/\1 contrib non-free non-free-firmware/' /etc/apt/sources.list
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nvidia-cuda-toolkit
fi
nvcc --version | tail -2
cd "$ROOT"
start=$(date +%s)
cargo build --release --locked ${JOBS:+-j "$JOBS"} --features cuda -p xtask
echo "cuda-build-check: built in $(( $(date +%s) - start )) s with CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP: $CARGO_TARGET_DIR/release/xtask"
