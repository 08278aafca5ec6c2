#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, its driver and a CUDA toolkit
# (nvcc). Within GPU_CHECK_MINUTES (default 10) it
#   1. builds xtask with `--features cuda` (into target/cuda; incremental when rerun),
#   2. runs `xtask gpu-check`: CPU against CUDA on the same seeded weights and data (MLP and
#      ResNet-20, f32 and f64: loss, gradient, HVP, top Lanczos eigenvalue) and the paper-scale
#      timings (step, HVP, 20 Lanczos steps), into OUT/check/gpu-check.{json,md},
#   3. spends the time left on figure3's paper-scale MLP full-batch row, series armijo and
#      polyak c=1 (3 seeds each; the tuned constant series needs `xtask reproduce figure3
#      --scale paper`, which reuses these runs), into OUT/results. Stopped by the time limit,
#      the current run writes a checkpoint; rerunning the script resumes it.
#
#   STEPSHARP_DATA=/path/to/cifar-10-batches-bin xtask/scripts/gpu-check.sh OUT
#
# Exit status: 0 checks passed (the row complete or stopped at the time limit); 1 a check
# failed or a command errored; 2 no CUDA build (no nvcc, or the build failed); 3 no usable GPU:
# stopped after the build, before anything needs the GPU (what the CUDA binary says is shown).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: gpu-check.sh OUT (a folder for the report, logs and results)}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
deadline=$(( $(date +%s) + ${GPU_CHECK_MINUTES:-10} * 60 ))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/cuda}
XTASK=$CARGO_TARGET_DIR/release/xtask
say() { echo "gpu-check.sh: $*" >&2; }
cd "$ROOT"

# 1. The CUDA build (needs nvcc, not a GPU).
if ! command -v nvcc >/dev/null; then
  say "nvcc not found: install a CUDA toolkit (Debian: xtask/scripts/cuda-build-check.sh as root) (exit 2)"
  exit 2
fi
nvcc --version | tail -1 > "$OUT/nvcc.txt"
# The compute capability of the kernels: the GPU's (90 for H100/H200 without a GPU to ask).
# candle's kernel build turns 90 and above into sm_90a, which needs CUDA >= 12.0; an older nvcc
# builds compute_89 PTX instead, which the driver JIT-compiles for the GPU.
if [ -z "${CUDA_COMPUTE_CAP:-}" ]; then
  nvcc_major=$(sed -n 's/.*release \([0-9]*\)\..*/\1/p' "$OUT/nvcc.txt")
  gpu_cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d .)
  cap=${gpu_cap:-90}
  [ "$cap" -ge 90 ] && [ "${nvcc_major:-0}" -lt 12 ] && cap=89
  export CUDA_COMPUTE_CAP=$cap
fi
say "building with --features cuda (CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP); log: $OUT/build.log"
start=$(date +%s)
if ! cargo build --release --locked --features cuda -p xtask > "$OUT/build.log" 2>&1; then
  tail -20 "$OUT/build.log" >&2
  say "the CUDA build failed (exit 2)"
  exit 2
fi
say "built in $(( $(date +%s) - start )) s"

# 2. A GPU is needed from here on.
if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  say "no NVIDIA GPU visible (nvidia-smi lists none); the CUDA build says:"
  RUST_BACKTRACE=0 "$XTASK" gpu-check --out "$OUT/check" 2>&1 | tail -3 >&2
  say "stopped before the CPU/CUDA comparison, which needs a GPU (exit 3)"
  exit 3
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv > "$OUT/device.csv"
say "CPU against CUDA and timings; log: $OUT/check.log"
if ! "$XTASK" gpu-check --out "$OUT/check" > "$OUT/check.log" 2>&1; then
  tail -20 "$OUT/check.log" >&2
  say "gpu-check failed (exit 1)"
  exit 1
fi
cat "$OUT/check/gpu-check.md"

# 3. figure3's paper-scale MLP full-batch row with the time left (a SIGINT checkpoints).
left=$(( deadline - $(date +%s) - 30 ))
if [ -z "${STEPSHARP_DATA:-}" ]; then
  say "STEPSHARP_DATA is not set: figure3's row skipped"
elif [ "$left" -lt 60 ]; then
  say "only $left s left: figure3's row skipped"
else
  say "figure3 paper MLP full-batch row for $left s; log: $OUT/figure3.log"
  timeout --preserve-status -s INT -k 60 "$left" "$XTASK" run experiments/figure3.toml \
    --scale paper --group "full batch" --series armijo --series "polyak c=1" \
    --results "$OUT/results" > "$OUT/figure3.log" 2>&1
  code=$?
  case $code in
    0) say "figure3 row complete: $OUT/results" ;;
    130) say "figure3 row stopped at the time limit with a checkpoint; rerun to resume: $OUT/results" ;;
    *) tail -20 "$OUT/figure3.log" >&2; say "figure3 row failed (exit 1)"; exit 1 ;;
  esac
fi
say "done: $OUT"
