#!/usr/bin/env bash
# check_bench.sh: torn check against the reference loop users run today, on one trace, in one run.
#
#   bench/check_bench.sh [TORN] [TRACE] [FROM_MARK] [BUDGET]
#
# TRACE: a trace directory or log (default corpus/ext4-default). The ratio depends on the trace's
# length (the reference replays from entry 0 at every checkpoint: quadratic overall), so measure a
# small corpus trace and a long one; record the long one with bench/long-workload.sh (see its header).
#
# 1. torn check --model prefix --points fua --from-mark MARK (the checkpoints xfstests' generic/482
#    checks): states per second, with --jobs 1 and --jobs 2.
# 2. The reference loop over the same checkpoints (the crash points torn check judged, read from its
#    --db): for each, `torn replay --to-entry N` of the RAW log (decompressed once, before the clock
#    starts: xfstests' replay-log reads a raw log too) from entry 0 onto a fresh image, then the same two
#    e2fsck steps torn's fsck oracle runs (e2fsck -E journal_only -y, e2fsck -fn). States per second.
# 3. The ratio of the two.
# 4. Distinct states per second for the default model (fua-barrier) with --jobs 2 and a budget.
# Figures are measured, never asserted: this is a benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
torn=${1:-$here/../build/cli/torn}
trace=${2:-$here/../corpus/ext4-default}
mark=${3:-mkfs}
budget=${4:-1000}
work=$(mktemp -d /dev/shm/torn-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }'; }

echo "trace: $trace (from mark $mark)"

# 1. torn check on the generic/482 checkpoints.
for jobs in 1 2; do
  t0=$(now)
  "$torn" check "$trace" --model prefix --points fua --from-mark "$mark" --oracle fsck --jobs "$jobs" \
    --db "$work/prefix-$jobs.db" --json >"$work/prefix-$jobs.json" || [ $? -eq 1 ]
  t1=$(now)
  n=$(sqlite3 "$work/prefix-$jobs.db" "select count(*) from states")
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  echo "torn check --model prefix --points fua --jobs $jobs: $n states in ${secs} s = $(rate "$n" "$secs") states/s"
  eval "torn_secs_$jobs=$secs"
  torn_n=$n
done

# 2. The reference loop over the same crash points.
mapfile -t points < <(sqlite3 "$work/prefix-1.db" "select crash_point from states order by state_id")
# The raw log and the device size, prepared before the clock starts.
if [ -d "$trace" ]; then
  log=$trace/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log"])' "$trace/trace.json")
  size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("device_bytes", 0))' "$trace/trace.json")
else
  log=$trace
  size=0
fi
case "$log" in
  *.zst) zstd -q -d -c "$log" >"$work/log.raw" ;;
  *) cp "$log" "$work/log.raw" ;;
esac
size_args=()
[ "${size:-0}" != 0 ] && size_args=(--device-size "$size")
t0=$(now)
bad=0
for p in "${points[@]}"; do
  "$torn" replay "$work/log.raw" --out "$work/ref.img" --to-entry "$p" "${size_args[@]}" >/dev/null
  rc=0; e2fsck -E journal_only -y "$work/ref.img" >/dev/null 2>&1 || rc=$?
  if [ $((rc & ~3)) -ne 0 ]; then bad=$((bad + 1)); continue; fi
  e2fsck -fn "$work/ref.img" >/dev/null 2>&1 || bad=$((bad + 1))
done
t1=$(now)
ref_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "reference loop (replay of the raw log from entry 0 + e2fsck, per checkpoint): ${#points[@]} states in ${ref_secs} s = $(rate "${#points[@]}" "$ref_secs") states/s ($bad failing)"

# 3. Ratios (same states, same trace, this run).
for jobs in 1 2; do
  eval "s=\$torn_secs_$jobs"
  echo "ratio torn check --jobs $jobs / reference: $(awk -v r="$ref_secs" -v t="$s" 'BEGIN { printf "%.2f", r / t }')x"
done

# 4. Distinct states per second, default model, --jobs 2.
t0=$(now)
"$torn" check "$trace" --from-mark "$mark" --budget "$budget" --jobs 2 --db "$work/default.db" --json \
  >"$work/default.json" || [ $? -eq 1 ]
t1=$(now)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
states=$(sqlite3 "$work/default.db" "select count(*) from states")
distinct=$(sqlite3 "$work/default.db" "select count(distinct digest) from states")
echo "torn check (fua-barrier, fsck+data+ordering, --jobs 2, budget $budget): $states states, $distinct distinct images in ${secs} s = $(rate "$distinct" "$secs") distinct states/s, $(rate "$states" "$secs") states/s"
