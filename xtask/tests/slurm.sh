#!/usr/bin/env bash
# Reproduces two figures with `--executor slurm` on a single-node SLURM cluster started here,
# and checks that every run equals the same figure reproduced locally: trajectories byte for
# byte but for the wall-time columns (found by name, xtask/tests/without-timing.py), final
# checkpoint tensors byte for byte; that metadata.json records the array ids and that the
# plotting jobs wrote the claims reports.
#
# 1. xtask/tests/tiny.toml: the tiny 2×2 figure, 4 array tasks.
# 2. xtask/tests/tiny-preempt.toml: 2 longer runs. Once task 0 has written part of its
#    trajectory, `scontrol requeue` stops it as a preemption does (SIGTERM: the run writes a
#    checkpoint and exits) and puts it back in the queue; its second attempt resumes the run.
#    Its metadata.json must count one resume and two attempts of that task, its log the
#    interrupt, SLURM one restart, and both runs must still equal the local ones.
#
#   cargo build --workspace --release --locked   # as .ci/run
#   sudo -E xtask/tests/slurm.sh     # root: apt-get and the daemons; CIFAR-10 from $STEPSHARP_DATA
#
# Needs python3. Installs Debian's slurm-wlm and munge when absent (apt-get update first; no
# service is started by the install). Everything else lives in a temporary folder: slurm.conf
# (munge auth, this host with 2 CPUs, cons_tres, linuxproc, task/none, a 10 s credential
# lifetime, which is also how long a requeued task waits before it may start again: 120 s by
# default), the daemons' state, logs and sockets, and the results folders. On every exit
# (pass, failure, SIGINT, SIGTERM) the jobs still in this cluster are cancelled and their job
# steps awaited, then slurmd, slurmctld and munged are stopped by pid (SIGKILL after 10 s).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
xtask=${XTASK:-$repo/target/release/xtask}
without_timing=$repo/xtask/tests/without-timing.py
# Seconds to wait for each figure's array and plotting job.
timeout_s=${SLURM_TEST_TIMEOUT:-300}
test_started=$(date +%s)

if [ ! -x "$xtask" ]; then
    echo "no $xtask: build it first (cargo build --release --workspace --all-targets)" >&2
    exit 2
fi

tmp=$(mktemp -d /tmp/stepsharp-slurm.XXXXXX)
pids=()
added_policy=
# stop <pid>: SIGTERM, SIGKILL after 10 s if it has not exited, then reap it.
stop() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do
        # A child that exited stays a zombie (state Z) until waited for.
        state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || break
        [ -z "$state" ] || [ "$state" = Z ] && break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
# Whether a job step of this cluster still runs (its slurmstepd's socket is in the spool).
steps_running() {
    local file
    for file in "$tmp"/spool/*; do
        [ -S "$file" ] && return 0
    done
    return 1
}
cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
    # Jobs still in this (temporary) cluster are cancelled first, so that no task outlives it
    # (a cancelled task gets SIGTERM, then SIGKILL after KillWait = 30 s: wait up to 45 s).
    if [ -n "${SLURM_CONF:-}" ] && jobs=$(squeue -h -o %i 2>/dev/null) && [ -n "$jobs" ]; then
        scancel $jobs 2>/dev/null || true
        for _ in $(seq 225); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    # A job step's slurmstepd (a daemon, not a child of this script) keeps a socket in the
    # spool folder until it has ended its tasks and exited: wait up to 30 s for them to go.
    for _ in $(seq 150); do steps_running || break; sleep 0.2; done
    if steps_running; then
        echo "slurmstepd still running after 30 s:" "$tmp"/spool/* >&2
        status=1
    fi
    # Reverse order of start: slurmd, slurmctld, munged.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop "${pids[i]}"
    done
    if [ "$status" -eq 0 ]; then
        rm -rf "$tmp"
    else
        echo "FAILED (status $status); logs kept in $tmp" >&2
        tail -n 20 "$tmp"/*.log "$tmp"/work/results/slurm/*/logs/* >&2 2>/dev/null || true
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    # No service may start during the install (the daemons run from the temporary folder):
    # Debian's policy-rc.d hook says so; it is added for the install when absent (Docker
    # images have one) and removed again.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        added_policy=1
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends slurm-wlm munge >/dev/null
    if [ -n "$added_policy" ]; then
        rm -f /usr/sbin/policy-rc.d
        added_policy=
    fi
    echo "installed slurm-wlm and munge in $(($(date +%s) - test_started))s"
fi

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
AuthInfo=socket=$socket,cred_expire=10
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

cp "$repo/xtask/tests/tiny.toml" "$repo/xtask/tests/tiny-preempt.toml" "$tmp/work/experiments/"
cd "$tmp/work"

# submit <figure> [reproduce options]: submits the figure's array and plotting job; sets
# $array, $plot and $runs_txt (the submission's task → run id listing).
submit() {
    local figure=$1
    shift
    "$xtask" --results "$tmp/work/results" reproduce "$figure" --executor slurm "$@" |
        tee "$tmp/submit-$figure.out"
    array=$(sed -n 's/^submitted job array \([0-9]*\).*/\1/p' "$tmp/submit-$figure.out")
    plot=$(sed -n 's/^submitted plotting job \([0-9]*\).*/\1/p' "$tmp/submit-$figure.out")
    runs_txt=$(sed -n 's/.* runs to submit, listed in \(.*\)$/\1/p' "$tmp/submit-$figure.out")
    [ -n "$array" ] && [ -n "$plot" ] && [ -s "$runs_txt" ]
}

# await <started>: waits until $array and $plot have left the queue, then checks that every
# task and the plotting job completed.
await() {
    local started=$1 states
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
    if grep -v -q 'JobState=COMPLETED' <<< "$states"; then
        echo "a job did not complete" >&2
        exit 1
    fi
}

# compare <figure> <runs>: reproduces the figure in this process, one thread per run as the
# array's tasks (cpus_per_task = 1), and checks the cluster's runs against it.
compare() {
    local figure=$1 expected=$2 runs=0 dir id cluster tensors
    "$xtask" --threads 1 --results "$tmp/local-$figure" reproduce "$figure" >/dev/null 2>&1
    for dir in "$tmp/local-$figure"/*/; do
        id=$(basename "$dir")
        [ "$id" = figures ] && continue
        cluster=results/$id
        # Every column but train_seconds and tracking_seconds (wall time). Written to files
        # first, so that a failing conversion fails the test instead of comparing two empty
        # outputs.
        python3 "$without_timing" "$dir/trajectory.csv" > "$tmp/local.csv"
        python3 "$without_timing" "$cluster/trajectory.csv" > "$tmp/cluster.csv"
        [ "$(wc -l < "$tmp/local.csv")" -gt 1 ]
        cmp "$tmp/local.csv" "$tmp/cluster.csv"
        for tensors in "$dir"/checkpoint-*.safetensors; do
            cmp "$tensors" "$cluster/$(basename "$tensors")"
        done
        grep -q "\"array_job_id\": \"$array\"" "$cluster/metadata.json"
        runs=$((runs + 1))
    done
    [ "$runs" -eq "$expected" ]
    cmp "$tmp/local-$figure/figures/$figure-quick/claims.md" \
        "results/figures/$figure-quick/claims.md"
    echo "$figure: $runs runs on SLURM equal the local runs; claims report identical"
}

# 1. The tiny figure.
started=$(date +%s)
submit tiny
await "$started"
test -s results/figures/tiny-quick/claims.md
compare tiny 4

# 2. A figure whose task 0 is preempted in mid-run and requeued. Requeueing is allowed
#    explicitly, and the log is appended to, so that it keeps the first attempt's output.
started=$(date +%s)
submit tiny-preempt --sbatch "--requeue --open-mode=append"
victim=$(awk -F'\t' '$1 == 0 {print $2}' "$runs_txt")
steps=$(sed -n 's/^training = .*max_steps = \([0-9]*\).*/\1/p' "$repo/xtask/tests/tiny-preempt.toml")
[ -n "$victim" ] && [ -n "$steps" ]
trajectory=results/$victim/trajectory.csv
# Rows written so far (the trajectory is rewritten atomically at each checkpoint).
rows() { if [ -f "$trajectory" ]; then awk 'END {print NR - 1}' "$trajectory"; else echo 0; fi; }
until [ "$(rows)" -gt 0 ]; do
    if [ $(($(date +%s) - started)) -gt "$timeout_s" ]; then
        echo "task 0 wrote no trajectory rows in ${timeout_s}s" >&2
        exit 1
    fi
    sleep 0.1
done
before=$(rows)
scontrol requeue "${array}_0"
echo "requeued task ${array}_0 (run $victim) with $before of $steps rows written"
[ "$before" -lt "$steps" ]
await "$started"
test -s results/figures/tiny-preempt-quick/claims.md
# SLURM restarted the task once; its first attempt was interrupted in mid-run (its log says
# so, with the step it stopped after) and its second resumed the checkpoint: metadata.json
# counts one resume and records both attempts as array task 0 of this array.
restarts=$(scontrol -o show job "${array}_0" | grep -o 'Restarts=[0-9]*')
echo "task ${array}_0: $restarts"
[ "$restarts" = Restarts=1 ]
log=$(dirname "$runs_txt")/logs/run-${array}_0.out
grep "interrupted: run $victim stopped after step" "$log"
python3 - "results/$victim/metadata.json" "$array" <<'PY'
import json, sys
metadata = json.load(open(sys.argv[1]))
attempts = [m.get("slurm") or {} for m in metadata["machines"]]
assert metadata["resumes"] == 1, f"resumes = {metadata['resumes']}"
assert len(attempts) == 2, f"{len(attempts)} attempts"
for attempt in attempts:
    assert attempt.get("array_job_id") == sys.argv[2], attempt
    assert attempt.get("array_task_id") == "0", attempt
print(f"run resumed once: {metadata['status']}, attempts as SLURM jobs "
      f"{[a['job_id'] for a in attempts]}")
PY
compare tiny-preempt 2

"$xtask" --results "$tmp/work/results" verify | tail -n 1
echo "PASS: 6 runs on SLURM (one preempted and requeued) equal the local runs; claims reports" \
    "written ($(($(date +%s) - test_started))s)"
