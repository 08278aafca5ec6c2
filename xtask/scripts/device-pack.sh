#!/usr/bin/env bash
# Packs what xtask/scripts/device-check.sh needs on a GPU machine without Rust into one folder
# (default .device/ at the repository root; keep it out of git, e.g. in .git/info/exclude):
#
#   xtask.xz, xtask.sha256   a `--features cuda` xtask linked against the CUDA 13 sonames
#                            (libcublas.so.13, libcublasLt.so.13, libcudart.so.13, libcurand.so.10)
#   BUILD-INFO.txt           how it was built (printed by device-check.sh)
#   glibc.tar.xz             this machine's loader, libc, libm, libgcc_s, libstdc++ (a fallback
#                            when the GPU machine's glibc is older than the binary needs)
#   data/cifar-10-batches-bin  the first 4096 training records (data_batch_1.bin cut; the other
#                            training files empty, never read) and test_batch.bin, with SHA256SUMS
#   device-check.sh, device-check-run.toml  copies, so the folder runs on its own
#
#   xtask/scripts/device-pack.sh BIN [DEST]
#
# BIN is built, e.g. (CUDA 13 libraries unzipped from the pip wheels nvidia-cublas,
# nvidia-cuda-runtime, nvidia-curand into CU13/nvidia/cu13/lib, with unversioned .so links added;
# candle's PTX still compiled by any nvcc, here 11.8 for compute_89):
#
#   CUDARC_CUDA_VERSION=13000 CUDA_ROOT=CU13/nvidia/cu13 CUDA_COMPUTE_CAP=89 \
#     cargo build --release --locked -p xtask --features cuda
#
# Environment: STEPSHARP_DATA the CIFAR-10 folder (default /work/shared/data/cifar-10-batches-bin);
# BUILD_REVISION the commit BIN was built from (written to BUILD-INFO.txt).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${1:?usage: device-pack.sh BIN [DEST]}
DEST=${2:-$ROOT/.device}
DATA=${STEPSHARP_DATA:-/work/shared/data/cifar-10-batches-bin}
RECORDS=4096
mkdir -p "$DEST"

if readelf -d "$BIN" | grep -E 'NEEDED.*(libcublas\.so\.11|libcudart\.so\.11)'; then
  echo "device-pack: $BIN links CUDA 11 libraries; build with CUDARC_CUDA_VERSION=13000" >&2
  exit 1
fi
xz -T2 -9 -c "$BIN" > "$DEST/xtask.xz"
(cd "$(dirname "$BIN")" && sha256sum "$(basename "$BIN")") | sed 's/ .*/  xtask/' > "$DEST/xtask.sha256"
{
  echo "xtask built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC') on $(uname -srm), $(getconf GNU_LIBC_VERSION)"
  echo "revision: ${BUILD_REVISION:-not given (BUILD_REVISION)}; the runs' metadata.json give the binary's own as code_revision"
  echo "NEEDED: $(readelf -d "$BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  echo "newest glibc symbol: $(objdump -T "$BIN" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
} > "$DEST/BUILD-INFO.txt"

glibc=$(mktemp -d)
mkdir "$glibc/glibc"
for lib in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libgcc_s.so.1 libstdc++.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
  path=$(ldconfig -p | awk -v n="$lib" '$1 == n && /x86-64/ {print $NF; exit}')
  cp -L "${path:-/lib64/$lib}" "$glibc/glibc/$lib"
done
tar -C "$glibc" -cf - glibc | xz -9 > "$DEST/glibc.tar.xz"
rm -rf "$glibc"

data=$DEST/data/cifar-10-batches-bin
mkdir -p "$data"
head -c $((RECORDS * 3073)) "$DATA/data_batch_1.bin" > "$data/data_batch_1.bin"
cp "$DATA/test_batch.bin" "$data/test_batch.bin"
chmod u+w "$data/test_batch.bin"
for i in 2 3 4 5; do : > "$data/data_batch_$i.bin"; done
(cd "$data" && sha256sum data_batch_1.bin test_batch.bin > SHA256SUMS)

cp "$HERE/device-check.sh" "$HERE/device-check-run.toml" "$DEST/"
du -ab "$DEST" | sort -k2
echo "device-pack: $(du -sb "$DEST" | cut -f1) bytes in $DEST"
