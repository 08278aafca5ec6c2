#!/usr/bin/env bash
# The run store's promises, checked from the outside with the built binary:
# 10 cases, each printing PASS or FAIL; exits non-zero unless 10/10 pass.
#
#   cargo build --release -p xtask
#   STEPSHARP_DATA=/path/to/cifar-10-batches-bin xtask/scripts/store-check.sh
#
# Cases 3 and 4 kill or interrupt a real process at a moment found by polling (as a user
# would); xtask/tests/xtask/crash.rs covers the same cases deterministically. CI (.ci/run) runs
# both.
# Trajectories are compared without their wall-time columns (xtask/tests/without-timing.py,
# python3).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
XTASK=${XTASK:-$REPO/target/release/xtask}
: "${STEPSHARP_DATA:?set STEPSHARP_DATA to the CIFAR-10 binary folder}"
WORK=$(mktemp -d)
# On every exit, the background runs still going (cases 3, 4 and 6) are stopped first.
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$WORK"
mkdir experiments
export RAYON_NUM_THREADS=1
passed=0

mlp() { # mlp <max_steps> <checkpoint_every> [stepsize]
  cat <<TOML
model = { kind = "mlp", hidden = [16], activation = "tanh", bias = true }
data = { train_subset = { kind = "first", count = 64 } }
training = { max_steps = $1, batch_size = 16, chunk_size = 64, checkpoint_every = $2 }
sharpness = { measure = { every = 5 }, eval_examples = 32, max_iterations = 10 }
stepsize = ${3:-{ kind = \"armijo\" \}}
TOML
}
# The trajectories of a results folder without their wall-time columns (found by name).
rows() { python3 "$REPO/xtask/tests/without-timing.py" "$1"/*/trajectory.csv; }
case_result() { # case_result <name> <ok?>
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS  $1"; else echo "FAIL  $1"; fi
}
# (Background processes are started as "$XTASK" itself, so that $! is its pid.)
run() { "$XTASK" run "$@"; }

mlp 40 5 > long.toml
run long.toml --results ref >/dev/null 2>&1
rows ref > ref.csv
# Every comparison below is against this reference: it must exist (a header and rows).
[ "$(wc -l < ref.csv)" -gt 1 ] || { echo "no reference trajectory" >&2; exit 1; }

# 1. Config errors name the full field path; an empty file is refused; no run folder.
mlp 4 2 '{ kind = "constant", eta = -0.1 }' > bad.toml
: > empty.toml
run bad.toml --results r1 2> e1a; run empty.toml --results r1 2> e1b
grep -q 'stepsize.eta' e1a && grep -q 'empty' e1b && [ ! -e r1 ]
case_result "config errors (stepsize.eta named, empty file refused, no folder)" $?

# 2. Data errors: a missing data folder is named; a batch larger than the subset is refused
#    before a run folder exists.
mlp 4 2 | sed 's/batch_size = 16/batch_size = 128/' > big.toml
run long.toml --results r2 --data "$WORK/nodata" 2> e2a
run big.toml --results r2 2> e2b
grep -q "$WORK/nodata" e2a && grep -q 'training.batch_size' e2b && [ ! -e r2 ]
case_result "data errors (path named, batch size checked first)" $?

# 3. kill -9 between checkpoints, then rerun: identical trajectory.
"$XTASK" run long.toml --results r3 >/dev/null 2>&1 & pid=$!
until ls r3/*/checkpoint.json >/dev/null 2>&1 || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
run long.toml --results r3 >/dev/null 2>&1 && rows r3 | cmp -s - ref.csv
case_result "kill -9 between checkpoints, rerun bit-identical" $?

# 4. Ctrl-C: checkpoint, exit 130 with a resume hint; the rerun is identical.
"$XTASK" run long.toml --results r4 >/dev/null 2> e4 & pid=$!
until ls r4/*/checkpoint.json >/dev/null 2>&1 || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done
kill -INT $pid; wait $pid; code=$?
[ $code = 130 ] && grep -q 'run the same command again' e4 &&
  run long.toml --results r4 >/dev/null 2>&1 && rows r4 | cmp -s - ref.csv
case_result "Ctrl-C writes a checkpoint (exit $code), rerun bit-identical" $?

# 5. A kill inside a checkpoint write, at every write point, then a rerun.
mlp 6 2 > short.toml
run short.toml --results ref5 >/dev/null 2>&1; rows ref5 > ref5.csv
[ "$(wc -l < ref5.csv)" -gt 1 ] || { echo "no reference trajectory" >&2; exit 1; }
bad=0; k=1
while :; do
  rm -rf r5
  STEPSHARP_FAULT=abort-before-write:$k run short.toml --results r5 >/dev/null 2>&1 && break
  run short.toml --results r5 >/dev/null 2>&1 && rows r5 | cmp -s - ref5.csv || bad=$((bad + 1))
  k=$((k + 1))
done
[ $bad = 0 ] && [ $k -gt 10 ]
case_result "kill at each of $((k - 1)) write points, every rerun bit-identical" $?

# 6. Two concurrent runs of one config: one waits (--wait) or refuses; the result is identical.
"$XTASK" run long.toml --results r6 >/dev/null 2> e6a & a=$!
"$XTASK" run long.toml --results r6 >/dev/null 2> e6b & b=$!
wait $a; ca=$?; wait $b; cb=$?
run long.toml --results r6 --wait >/dev/null 2>&1
{ [ $ca = 0 ] || grep -q 'another process' e6a; } && { [ $cb = 0 ] || grep -q 'another process' e6b; } &&
  rows r6 | cmp -s - ref.csv && "$XTASK" verify --results r6 >/dev/null
case_result "concurrent runs (exit $ca/$cb), trajectory identical, verify ok" $?

# 7. Divergence to inf: recorded, rerun reuses it, verify passes.
mlp 4 2 '{ kind = "constant", eta = 1e20 }' > inf.toml
run inf.toml --results r7 >/dev/null 2>&1 && grep -q '"inf"\|"nan"' r7/*/metadata.json &&
  run inf.toml --results r7 2>&1 | grep -q cached && "$XTASK" verify --results r7 >/dev/null
case_result "divergence to inf reruns and verifies" $?

# 8. A diverged run inside a plotted figure: reproduce, plot, verify.
cat > experiments/diverging.toml <<TOML
title = "diverging"
kind = "interplay"
[quick.base]
$(mlp 4 2 | grep -v stepsize)
[[quick.group]]
label = "batch 16"
[[quick.series]]
label = "armijo"
[[quick.series]]
label = "constant 1e20"
set = { stepsize = { kind = "constant", eta = 1e20 } }
[paper]
TOML
"$XTASK" reproduce diverging --results r8 >/dev/null 2>e8 && "$XTASK" plot diverging --results r8 >/dev/null 2>>e8 &&
  "$XTASK" verify --results r8 >/dev/null && [ -s r8/figures/diverging-quick/figure.png ]
case_result "divergence in a plotted figure (reproduce, plot, verify)" $?

# 9. A tampered trajectory fails verify.
cp -r ref r9
sed -i '2s/,0\./,0.9/' r9/*/trajectory.csv
! "$XTASK" verify --results r9 > e9 2>&1 && grep -q 'PROBLEM' e9
case_result "tampered trajectory fails verify" $?

# 10. Unusable results paths are named.
run short.toml --results "$WORK/short.toml" 2> e10a
"$XTASK" verify --results "$WORK/none" 2> e10b
grep -q "$WORK/short.toml" e10a && grep -q "$WORK/none" e10b
case_result "unusable results paths are named" $?

echo "$passed/10 passed"
[ $passed = 10 ]
