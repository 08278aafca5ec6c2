#!/usr/bin/env bash
# The GPU check on a machine WITHOUT a Rust toolchain: a prebuilt `--features cuda`
# xtask (CUDA 13 sonames) is carried in a folder beside the working tree (`.device/`, made by
# xtask/scripts/device-pack.sh), and this script runs it within a hard time budget:
#
#   0. the machine: date, kernel, glibc, CPU model and cores, memory, `nvidia-smi`, nvcc;
#   1. unpacks the binary (xz, else Python's lzma) and checks its sha256;
#   2. finds the CUDA 13 user-space libraries it links (libcublas.so.13, libcublasLt.so.13,
#      libcudart.so.13, libcurand.so.10: e.g. the pip wheels nvidia-cublas, nvidia-cuda-runtime,
#      nvidia-curand under a venv's site-packages/nvidia/cu13/lib), puts them on LD_LIBRARY_PATH
#      and shows `ldd`; libcuda.so.1 comes from the NVIDIA driver. If the binary cannot start
#      because the system glibc is older than the build machine's (it needs GLIBC_2.35), it is
#      started through the glibc 2.36 carried in .device/glibc.tar.xz instead;
#   3. `xtask gpu-check --size tiny` (CPU against CUDA on tiny problems: seconds, a smoke test
#      of every kernel path, including the driver's JIT of candle's compute_89 PTX), then
#      `xtask gpu-check` at paper size (CPU against CUDA for loss, gradient, HVP, top Lanczos
#      eigenvalue in f32 and f64 on figure3's MLP and a ResNet-20; paper-scale timings of a
#      step, an HVP and 20 Lanczos steps) into OUT/gpu-check.{json,md};
#   4. times device-check-run.toml (figure3's paper-scale full-batch MLP Armijo run, seed 0,
#      4096 CIFAR-10 images, 500 steps, λ_max every 50 steps) on CUDA and then, for comparison,
#      the same run on the CPU (all cores) for the time left; a run stopped by its time limit
#      checkpoints (SIGINT) and its trajectory so far is kept;
#   5. summarizes both trajectories (seconds per step and per λ_max measurement, CPU/CUDA loss
#      and λ_max differences on the common steps).
#
# Usage, from the root of the working tree (on any x86-64 Linux machine with an NVIDIA driver
# for CUDA 13, i.e. >= 580, and the four libraries above somewhere on disk; no Rust needed):
#
#   OUT=/some/folder bash .device/device-check.sh          # or: bash .device/device-check.sh DIR
#
# Environment: OUT (or the first argument) the output folder; DEVICE_DIR the packed folder
# (default: this script's folder if it holds xtask.xz, else ./.device); DEVICE_CHECK_SECONDS the
# hard budget (default 330: every step's timeout is cut to what is left); CUDA_LIB_DIRS
# (colon-separated) skips the library search; CUDA_LIB_SEARCH the folders searched first
# (then / if something is missing); CPU_RUN_SECONDS the CPU run's limit (default 60);
# FORCE_BUNDLED_GLIBC=1 starts the binary through the carried glibc (a test of that path).
#
# OUT receives at most 7 files: device-check.log (everything below, as printed),
# gpu-check.json and gpu-check.md (paper size), gpu-check-tiny.md, trajectory-cuda.csv,
# trajectory-cpu.csv, device-check-files.tar.gz (each step's log, both runs' config.toml and
# metadata.json, gpu-check-tiny.json, ldd and the library list).
#
# Exit status: 0 every step passed; 1 a step failed or timed out (see the summary); 2 the
# binary could not be unpacked or started (missing libraries or glibc); 3 no GPU visible
# (nvidia-smi lists none): the CUDA steps show the binary's error, the CPU run still runs.
set -u
set -o pipefail
START=$(date +%s)
BUDGET=${DEVICE_CHECK_SECONDS:-330}
DEADLINE=$((START + BUDGET))
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${DEVICE_DIR:-}" ]; then
  if [ -f "$HERE/xtask.xz" ]; then DEVICE_DIR=$HERE; else DEVICE_DIR=$PWD/.device; fi
fi
CONFIG=${RUN_CONFIG:-$HERE/device-check-run.toml}
OUT=${OUT:-${1:-}}
if [ -z "$OUT" ]; then
  echo "usage: OUT=DIR bash $0   (or: bash $0 DIR)" >&2
  exit 2
fi
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")
mkdir -p "$WORK/logs"
LOG=$OUT/device-check.log

say() { echo "[device-check +$(( $(date +%s) - START ))s] $*"; }
left() { echo $(( DEADLINE - $(date +%s) )); }
# limit CAP [RESERVE]: CAP seconds, or what is left of the budget minus RESERVE if less.
limit() {
  local l=$(( $(left) - ${2:-15} ))
  [ "$l" -lt 1 ] && l=1
  if [ "$l" -lt "$1" ]; then echo "$l"; else echo "$1"; fi
}
RESULTS=()
record() { RESULTS+=("$1"); say "RESULT $1"; }

PY=""
for p in python3 /opt/torch/.venv/bin/python3 python; do
  if command -v "$p" >/dev/null 2>&1; then PY=$(command -v "$p"); break; fi
done

# xtask_step NAME SIGNAL CAP ARGS...: runs the binary with a timeout; the output goes to the
# main log and to WORK/logs/NAME.log. Sets STEP_RC (124: stopped by its time limit).
xtask_step() {
  local name=$1 signal=$2 cap t started
  cap=$3; shift 3
  t=$(limit "$cap")
  if [ "$t" -lt 10 ]; then
    record "$name: skipped, only $(left) s of the budget left"
    STEP_RC=125
    return
  fi
  say "$name: xtask $* (limit ${t}s)"
  started=$(date +%s)
  timeout --preserve-status -s "$signal" -k 15 "$t" "${XT[@]}" "$@" 2>&1 | tee "$WORK/logs/$name.log"
  STEP_RC=${PIPESTATUS[0]}
  local took=$(( $(date +%s) - started ))
  if [ "$STEP_RC" = 0 ]; then
    record "$name: ok in ${took}s"
  elif [ "$took" -ge "$t" ]; then
    if [ "$STEP_RC" = 130 ]; then
      record "$name: stopped at its time limit (${t}s) with a checkpoint (exit 130)"
    else
      record "$name: TIMED OUT after ${took}s (limit ${t}s, exit $STEP_RC)"
    fi
    STEP_RC=124
  else
    record "$name: FAILED, exit $STEP_RC after ${took}s"
  fi
  # What the usual CUDA failure modes mean.
  if grep -qE 'CUDA_ERROR_(INVALID_PTX|UNSUPPORTED_PTX_VERSION|NO_BINARY_FOR_GPU|JIT_COMPILER_NOT_FOUND|INVALID_IMAGE)' "$WORK/logs/$name.log"; then
    say "$name: NOTE the driver rejected candle's kernels (PTX built by nvcc 11.8 for compute_89 and JIT-compiled by the driver): see the error above"
  fi
  if grep -qE 'CUDA_ERROR_NO_DEVICE|no CUDA-capable device' "$WORK/logs/$name.log"; then
    say "$name: NOTE no CUDA device (expected on a machine without a GPU)"
  fi
  if grep -qE 'CUDA_ERROR_(INSUFFICIENT_DRIVER|COMPAT_NOT_SUPPORTED|SYSTEM_DRIVER_MISMATCH)|cudaErrorInsufficientDriver|CallRequiresNewerDriver' "$WORK/logs/$name.log"; then
    say "$name: NOTE the driver is older than the CUDA 13 libraries expect"
  fi
}

# unxz SRC DEST: xz, else Python's lzma.
unxz_to() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" > "$2"
  elif [ -n "$PY" ]; then
    "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else
    say "neither xz nor python3 found"; return 1
  fi
}
untar_xz() {
  if command -v xz >/dev/null 2>&1 && tar --version >/dev/null 2>&1; then
    tar -xJf "$1" -C "$2"
  elif [ -n "$PY" ]; then
    "$PY" -c 'import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
  else
    return 1
  fi
}
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif [ -n "$PY" ]; then
    "$PY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
  fi
}

finish() {
  # Collect what comes back; OUT holds at most 7 files.
  local f d
  for d in cuda cpu; do
    f=$(ls "$WORK"/results-$d/*/trajectory.csv 2>/dev/null | head -1)
    [ -n "$f" ] && cp "$f" "$OUT/trajectory-$d.csv"
  done
  [ -f "$WORK/tiny/gpu-check.md" ] && cp "$WORK/tiny/gpu-check.md" "$OUT/gpu-check-tiny.md"
  mkdir -p "$WORK/pack"
  cp -r "$WORK/logs" "$WORK/pack/" 2>/dev/null
  [ -f "$WORK/tiny/gpu-check.json" ] && cp "$WORK/tiny/gpu-check.json" "$WORK/pack/gpu-check-tiny.json"
  for d in cuda cpu; do
    for f in "$WORK"/results-$d/*/config.toml "$WORK"/results-$d/*/metadata.json; do
      [ -f "$f" ] && mkdir -p "$WORK/pack/run-$d" && cp "$f" "$WORK/pack/run-$d/"
    done
  done
  tar -czf "$OUT/device-check-files.tar.gz" -C "$WORK/pack" . 2>/dev/null
}

main() {
  local code=0 have_gpu=0 bin
  say "start; budget ${BUDGET}s; device folder $DEVICE_DIR; run config $CONFIG; out $OUT; scratch $WORK"

  # 0. The machine.
  echo "== machine"
  date -u; uname -srm
  echo "hostname: $(hostname 2>/dev/null)"
  echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1 | head -1)"
  grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true
  echo "cores (nproc): $(nproc)"
  grep -m1 MemTotal /proc/meminfo 2>/dev/null || true
  echo "python: ${PY:-none}"
  echo "== nvidia-smi"
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 30 nvidia-smi 2>&1
    timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
    if timeout 20 nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then have_gpu=1; fi
  else
    echo "nvidia-smi: not found"
  fi
  command -v nvcc >/dev/null 2>&1 && nvcc --version | tail -2
  if [ "$have_gpu" = 1 ]; then say "GPU visible"; else say "NO GPU visible (nvidia-smi lists none): the CUDA steps will show the binary's error"; fi

  # 1. Unpack.
  echo "== unpack"
  bin=$WORK/bin/xtask
  mkdir -p "$WORK/bin"
  if [ ! -f "$DEVICE_DIR/xtask.xz" ]; then
    say "missing $DEVICE_DIR/xtask.xz: run xtask/scripts/device-pack.sh on the build machine and carry .device"
    return 2
  fi
  if ! unxz_to "$DEVICE_DIR/xtask.xz" "$bin"; then say "cannot unpack $DEVICE_DIR/xtask.xz"; return 2; fi
  chmod +x "$bin"
  local want got
  want=$(cut -d' ' -f1 "$DEVICE_DIR/xtask.sha256" 2>/dev/null)
  got=$(sha256_of "$bin")
  if [ -n "$want" ] && [ "$want" != "$got" ]; then say "xtask sha256 $got differs from the packed $want"; return 2; fi
  say "xtask unpacked: $(wc -c < "$bin") bytes, sha256 $got ${want:+(matches the pack)}"
  cat "$DEVICE_DIR/BUILD-INFO.txt" 2>/dev/null

  # 2. The CUDA 13 libraries.
  echo "== CUDA libraries"
  local names="libcublas.so.13 libcublasLt.so.13 libcudart.so.13 libcurand.so.10" dirs="" n found
  if [ -n "${CUDA_LIB_DIRS:-}" ]; then
    dirs=$CUDA_LIB_DIRS
    say "CUDA_LIB_DIRS given: $dirs"
  else
    local roots=${CUDA_LIB_SEARCH:-"/opt /usr/local /usr/lib /usr/lib64 /root /home /venv /workspace"} pass
    : > "$WORK/libs-found.txt"
    for pass in first second; do
      local expr=() missing=0
      for n in $names; do
        grep -q "/$n\$" "$WORK/libs-found.txt" || missing=1
      done
      [ "$missing" = 0 ] && break
      if [ "$pass" = second ]; then roots=/; say "searching / for what is missing"; fi
      for n in $names; do expr+=(-name "$n" -o); done
      unset 'expr[${#expr[@]}-1]'
      # shellcheck disable=SC2086
      timeout "$(limit 40 200)" find $roots -xdev \( "${expr[@]}" \) \( -type f -o -type l \) 2>/dev/null >> "$WORK/libs-found.txt"
    done
    sort -u -o "$WORK/libs-found.txt" "$WORK/libs-found.txt"
    echo "found:"; sed 's/^/  /' "$WORK/libs-found.txt"
    # Per library the copy beside libcublas.so.13 (one wheel set), else one under a cu13
    # folder, else the first found.
    local cublas_dir
    cublas_dir=$(grep '/libcublas\.so\.13$' "$WORK/libs-found.txt" | grep -m1 cu13 || grep -m1 '/libcublas\.so\.13$' "$WORK/libs-found.txt")
    cublas_dir=${cublas_dir%/*}
    for n in $names; do
      found=""
      [ -n "$cublas_dir" ] && [ -e "$cublas_dir/$n" ] && found=$cublas_dir/$n
      [ -z "$found" ] && found=$(grep "/$n\$" "$WORK/libs-found.txt" | grep -m1 cu13)
      [ -z "$found" ] && found=$(grep -m1 "/$n\$" "$WORK/libs-found.txt")
      if [ -z "$found" ]; then
        say "NOT FOUND: $n (install the CUDA 13 pip wheels nvidia-cublas nvidia-cuda-runtime nvidia-curand, or set CUDA_LIB_DIRS)"
        continue
      fi
      echo "  $n -> $found"
      case ":$dirs:" in *":${found%/*}:"*) ;; *) dirs=${dirs:+$dirs:}${found%/*} ;; esac
    done
    local site
    for site in $(echo "$dirs" | tr ':' ' '); do
      ls -d "$site"/../../../nvidia_*dist-info "$site"/../../nvidia_*dist-info 2>/dev/null | sed 's|.*/||; s/^/  wheel: /'
    done
  fi
  export LD_LIBRARY_PATH=$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "ldd:"
  ldd "$bin" 2>&1 | tee "$WORK/logs/ldd.txt" | grep -E 'cuda|cublas|curand|not found|GLIBC|libc\.so' | sed 's/^/  /'
  cp "$WORK/libs-found.txt" "$WORK/logs/" 2>/dev/null

  # The binary must start (every library resolved, glibc new enough).
  XT=("$bin")
  local started_ok=0 out
  if [ "${FORCE_BUNDLED_GLIBC:-0}" != 1 ]; then
    if out=$("$bin" --version 2>&1); then started_ok=1; say "the binary starts: $out"; else say "the binary does not start: $out"; fi
  fi
  if [ "$started_ok" = 0 ] && { [ "${FORCE_BUNDLED_GLIBC:-0}" = 1 ] || echo "$out" | grep -q 'GLIBC_'; }; then
    mkdir -p "$WORK/glibc-root"
    if untar_xz "$DEVICE_DIR/glibc.tar.xz" "$WORK/glibc-root"; then
      local gl=$WORK/glibc-root/glibc libcuda_dir
      libcuda_dir=$( (ldconfig -p 2>/dev/null | awk '$1=="libcuda.so.1" && /x86-64/ {print $NF; exit}') )
      libcuda_dir=${libcuda_dir%/*}
      XT=("$gl/ld-linux-x86-64.so.2" --library-path "$gl:$LD_LIBRARY_PATH${libcuda_dir:+:$libcuda_dir}" "$bin")
      if out=$("${XT[@]}" --version 2>&1); then
        started_ok=1; say "the binary starts through the carried glibc 2.36 loader: $out"
      else
        say "not even through the carried glibc: $out"
      fi
    fi
  fi
  if [ "$started_ok" = 0 ]; then
    record "start: FAILED (see the ldd lines above: a CUDA 13 library or glibc is missing)"
    return 2
  fi
  # A panic shows its backtrace; an error (e.g. no GPU) only its message.
  export RUST_BACKTRACE=1 RUST_LIB_BACKTRACE=0

  # 3. gpu-check.
  echo "== gpu-check --size tiny (CPU against CUDA, smoke test)"
  xtask_step gpu-check-tiny TERM 90 gpu-check --size tiny --out "$WORK/tiny"
  local tiny_rc=$STEP_RC
  [ "$tiny_rc" = 0 ] || code=1
  echo "== gpu-check (paper size)"
  if [ "$have_gpu" = 1 ] && [ "$tiny_rc" != 124 ] && [ "$tiny_rc" != 137 ]; then
    xtask_step gpu-check-paper TERM 150 gpu-check --out "$OUT"
    [ "$STEP_RC" = 0 ] || code=1
  else
    record "gpu-check-paper: skipped (no GPU, or the tiny check hung)"
  fi

  # 4. The timed run: CUDA, then the CPU for comparison.
  local data=$DEVICE_DIR/data/cifar-10-batches-bin
  echo "== run on CUDA: $CONFIG"
  xtask_step run-cuda INT 75 --data "$data" --results "$WORK/results-cuda" --device cuda run "$CONFIG"
  [ "$STEP_RC" = 0 ] || code=1
  echo "== run on the CPU ($(nproc) cores): $CONFIG"
  xtask_step run-cpu INT "${CPU_RUN_SECONDS:-60}" --data "$data" --results "$WORK/results-cpu" --device cpu run "$CONFIG"
  case $STEP_RC in 0|124) ;; *) code=1 ;; esac

  # 5. Summary.
  echo "== summary"
  if [ -n "$PY" ]; then
    "$PY" - "$WORK" <<'PYEOF' || true
import csv, glob, json, os, sys
work = sys.argv[1]
runs = {}
for d in ("cuda", "cpu"):
    paths = glob.glob(os.path.join(work, "results-" + d, "*", "trajectory.csv"))
    if not paths:
        print(f"{d}: no trajectory")
        continue
    rows = list(csv.DictReader(open(paths[0])))
    meta = {}
    try:
        meta = json.load(open(os.path.join(os.path.dirname(paths[0]), "metadata.json")))
    except Exception:
        pass
    runs[d] = rows
    if not rows:
        print(f"{d}: empty trajectory")
        continue
    last = rows[-1]
    train = float(last["train_seconds"] or 0)
    track = float(last["tracking_seconds"] or 0)
    measured = sum(1 for r in rows if r["lambda_max"])
    status = meta.get("status", {}).get("status", "?")
    if status == "running":
        status = "stopped early, checkpointed"
    print(f"{d}: {len(rows)} steps ({status}), threads {meta.get('threads', '?')}, "
          f"train {train:.2f} s = {1000 * train / len(rows):.2f} ms/step "
          f"({1000 * (train - float(rows[0]['train_seconds'] or 0)) / max(len(rows) - 1, 1):.2f} after step 0), "
          f"tracking {track:.2f} s over {measured} λ_max measurements "
          f"= {track / max(measured, 1):.3f} s each, last loss {float(last['loss']):.6g}")
if "cuda" in runs and "cpu" in runs and runs["cuda"] and runs["cpu"]:
    a, b = runs["cpu"], runs["cuda"]
    n = min(len(a), len(b))
    rel = lambda x, y: abs(x - y) / abs(x) if x else float("nan")
    loss = [rel(float(a[i]["loss"]), float(b[i]["loss"])) for i in range(n)]
    eta = [rel(float(a[i]["eta"]), float(b[i]["eta"])) for i in range(n)]
    print(f"CPU vs CUDA on the {n} common steps: max relative loss difference {max(loss):.3g} "
          f"(first 10 steps {max(loss[:10]):.3g}), max relative η difference {max(eta):.3g}")
    for i in range(n):
        if a[i]["lambda_max"] and b[i]["lambda_max"]:
            x, y = float(a[i]["lambda_max"]), float(b[i]["lambda_max"])
            print(f"  step {a[i]['step']}: λ_max cpu {x:.6g} cuda {y:.6g} (relative {rel(x, y):.3g}); "
                  f"loss cpu {float(a[i]['loss']):.7g} cuda {float(b[i]['loss']):.7g}")
    ta = float(a[n - 1]["train_seconds"]); tb = float(b[n - 1]["train_seconds"])
    if tb > 0:
        print(f"training time over the common steps: cpu {ta:.2f} s, cuda {tb:.2f} s: CUDA {ta / tb:.1f}x faster")
PYEOF
  else
    say "no python3: no summary (the trajectories are in OUT)"
  fi
  if [ -f "$OUT/gpu-check.md" ]; then echo "-- gpu-check.md (paper)"; cat "$OUT/gpu-check.md"; fi
  echo "== results"
  local r
  for r in "${RESULTS[@]}"; do echo "  $r"; done
  [ "$have_gpu" = 1 ] || { [ "$code" = 2 ] || code=3; }
  return "$code"
}

trap 'finish; echo "[device-check] interrupted" | tee -a "$LOG"; exit 1' INT TERM
main 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
trap - INT TERM
finish
echo "[device-check +$(( $(date +%s) - START ))s] exit $rc (0 passed, 1 a step failed, 2 cannot start, 3 no GPU); OUT: $(ls "$OUT" | tr '\n' ' ')" | tee -a "$LOG"
exit "$rc"
