#!/usr/bin/env bash
# Reproduces the tiny 2×2 figure (xtask/tests/tiny.toml, CIFAR-10) with `--executor slurm` on
# a single-node SLURM cluster started here, and checks that every run equals the same figure
# reproduced locally (trajectories byte for byte but for the two wall-time columns, final
# checkpoint tensors byte for byte), that metadata.json records the array ids and that the
# plotting job wrote the claims report.
#
#   cargo build --release --locked --workspace --features stepsharp-data/hub --all-targets
#   sudo -E xtask/tests/slurm.sh     # root: apt-get and the daemons; CIFAR-10 from $STEPSHARP_DATA
#
# Installs Debian's slurm-wlm and munge when absent. Everything else lives in a temporary
# folder: slurm.conf (munge auth, this host with 2 CPUs, cons_tres, linuxproc, task/none), the
# daemons' state, logs and sockets, and both results folders. munged, slurmctld and slurmd are
# stopped by pid on exit, whether the test passed or not.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
xtask=${XTASK:-$repo/target/release/xtask}
# Seconds to wait for the array and the plotting job.
timeout_s=${SLURM_TEST_TIMEOUT:-300}

if [ ! -x "$xtask" ]; then
    echo "no $xtask: build it first (cargo build --release --workspace --all-targets)" >&2
    exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y slurm-wlm munge
fi

tmp=$(mktemp -d /tmp/stepsharp-slurm.XXXXXX)
pids=()
cleanup() {
    local status=$?
    # Jobs still in this (temporary) cluster are cancelled first, so that no task outlives it.
    if [ -n "${SLURM_CONF:-}" ] && jobs=$(squeue -h -o %i 2>/dev/null) && [ -n "$jobs" ]; then
        scancel $jobs 2>/dev/null || true
        for _ in $(seq 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$status" -eq 0 ]; then
        rm -rf "$tmp"
    else
        echo "FAILED (status $status); logs kept in $tmp" >&2
        tail -n 20 "$tmp"/*.log "$tmp"/work/results/slurm/*/logs/* 2>/dev/null >&2 || true
    fi
}
trap cleanup EXIT

host=$(hostname -s)
memory_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024))
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/work/experiments"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$socket" \
    --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
    --log-file="$tmp/munged.log" >>"$tmp/daemons.log" 2>&1 &
pids+=($!)

# Ports away from SLURM's defaults, so a cluster already on this host is not disturbed.
port=$((20000 + RANDOM % 20000))
cat > "$tmp/slurm.conf" <<CONF
ClusterName=stepsharp-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf

for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >>"$tmp/daemons.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$tmp/daemons.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    sinfo -h -N -o %t 2>/dev/null | grep -q idle && break
    sleep 0.3
done
sinfo -h -N -o "%N %t %c"

cp "$repo/xtask/tests/tiny.toml" "$tmp/work/experiments/"
cd "$tmp/work"
started=$(date +%s)
"$xtask" --results "$tmp/work/results" reproduce tiny --executor slurm | tee "$tmp/submit.out"
array=$(sed -n 's/^submitted job array \([0-9]*\).*/\1/p' "$tmp/submit.out")
plot=$(sed -n 's/^submitted plotting job \([0-9]*\).*/\1/p' "$tmp/submit.out")
[ -n "$array" ] && [ -n "$plot" ]

while [ -n "$(squeue -h -j "$array,$plot" -o %i)" ]; do
    if [ $(($(date +%s) - started)) -gt "$timeout_s" ]; then
        echo "jobs still queued or running after ${timeout_s}s:" >&2
        squeue -j "$array,$plot" >&2
        exit 1
    fi
    sleep 1
done
echo "array and plotting job ended after $(($(date +%s) - started))s"
states=$(for job in "$array" "$plot"; do scontrol -o show job "$job"; done |
    grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
echo "$states"
if echo "$states" | grep -v -q 'JobState=COMPLETED'; then
    echo "a job did not complete" >&2
    exit 1
fi
test -s results/figures/tiny-quick/claims.md

# The same figure in this process, one thread per run as the array's tasks (cpus_per_task = 1).
"$xtask" --threads 1 --results "$tmp/local" reproduce tiny >/dev/null 2>&1
runs=0
for dir in "$tmp"/local/*/; do
    id=$(basename "$dir")
    [ "$id" = figures ] && continue
    cluster=results/$id
    # Every column but the last two (train_seconds, tracking_seconds, wall time).
    cmp <(rev "$dir/trajectory.csv" | cut -d, -f3- | rev) \
        <(rev "$cluster/trajectory.csv" | cut -d, -f3- | rev)
    for tensors in "$dir"/checkpoint-*.safetensors; do
        cmp "$tensors" "$cluster/$(basename "$tensors")"
    done
    grep -q "\"array_job_id\": \"$array\"" "$cluster/metadata.json"
    runs=$((runs + 1))
done
[ "$runs" -eq 4 ]
cmp "$tmp/local/figures/tiny-quick/claims.md" results/figures/tiny-quick/claims.md
"$xtask" --results "$tmp/work/results" verify | tail -n 1
echo "PASS: $runs runs on SLURM equal the local runs; claims report written ($(($(date +%s) - started))s)"
