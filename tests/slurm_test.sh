#!/usr/bin/env bash
# torn on a real Slurm (docs/scale.md): a private single-node cluster (tests/slurm/cluster.sh) runs a
# check as a 2-task array submitted by docs/scale/submit.sh, then its merge; the merged result must be
# the one a single machine prints. On the way the tasks are killed the ways a scheduler kills:
#   - task 1 is requeued by `scontrol requeue` while it runs (SIGTERM, SIGKILL after KillWait);
#   - both run under `--time=1` with more than a minute of work: Slurm ends them at the time limit
#     (TIMEOUT), and the test requeues them with more time.
# Checked: no e2fsck of a killed task is left (its scratch directory names it), each requeued task
# resumed from its database (its JSON's "resumed" > 0), and the merged JSON, human report and JUnit
# equal the single run's but for the run's own figures (time, images judged; docs/scale.md). Every daemon
# started is stopped, also on failure (an EXIT trap).
# Then a short fuzz campaign the same way (tests/slurm/fuzz.sh): a 2-task array of torn fuzz --shard,
# its merge, compared with the campaign on one machine (about 25 s more).
#
# usage: slurm_test.sh TORN SOURCE_DIR. Exit 77 (skipped) without root or without Slurm and munge,
# except under CI (CI set), where that is a failure: scripts/install-deps.sh installs them.
set -uo pipefail
TORN=$(realpath "$1")
SRC=$(realpath "$2")
skip() {
  if [ -n "${CI:-}" ]; then echo "FAIL: $*" >&2; exit 1; fi
  echo "SKIP: $*" >&2
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "the Slurm test runs slurmd as root"
for p in munged slurmctld slurmd sbatch scontrol sinfo sqlite3; do
  command -v "$p" >/dev/null || skip "$p not found (bash scripts/install-deps.sh installs slurm-wlm and munge)"
done
source "$SRC/tests/slurm/cluster.sh"
source "$SRC/tests/slurm/fuzz.sh"

T=$(mktemp -d /tmp/torn-slurm-test.XXXXXX)
START=$SECONDS
fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/out/*.log "$T"/fuzz/out/*.log "$T"/slurm/log/slurmctld.log "$T"/slurm/log/slurmd.log; do
    [ -f "$f" ] && { echo "--- $f (tail)"; tail -20 "$f"; } >&2
  done
  exit 1
}
cleanup() {
  slurm_down
  rm -rf "$T"
}
trap cleanup EXIT
# When this script is killed without running its EXIT trap (ctest's TIMEOUT kills it with SIGKILL), a
# watchdog stops what it started: the daemons (by their pid files), every process that names $T (a
# torn check run by hand from here), and $T. Forked twice, so that it is nobody's descendant when
# ctest kills this script's process tree; it ends on its own once this script is gone.
( (
  trap '' TERM INT HUP
  while kill -0 $$ 2>/dev/null; do sleep 2; done
  for f in "$T/slurm/slurmd.pid" "$T/slurm/slurmctld.pid" "$T/slurm/munge/munged.pid"; do
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  pkill -9 -f "$T" 2>/dev/null
  rm -rf "$T"
) </dev/null >/dev/null 2>&1 & )
step() { echo "[$((SECONDS - START)) s] $*"; }

TRACE=$SRC/corpus/ext4-nobarrier
mkdir -p "$T/single" "$T/out" "$T/calibrate"
# Each task needs more than its time limit's worth of work on one core (Slurm ends a 1-minute job
# 60-90 s after its start): the budget is sized from this machine's speed, about 180 s per task.
if [ -z "${TORN_SLURM_BUDGET:-}" ]; then
  t=$(date +%s.%N)
  "$TORN" check "$TRACE" --budget 300 --jobs 1 --scratch "$T/calibrate" > /dev/null 2>&1
  TORN_SLURM_BUDGET=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN {
    b = int(2 * 180 / ((b - a) / 300)); print (b < 2000 ? 2000 : (b > 200000 ? 200000 : b)) }')
fi
# --minimize 0: torn merge groups the violations by signature but minimizes none (the shards' own
# minimizations judged their own representatives), so the single run is asked for the same.
CHECK=(--budget "$TORN_SLURM_BUDGET" --minimize 0)

step "single machine: torn check ${CHECK[*]}"
"$TORN" check "$TRACE" "${CHECK[@]}" --jobs 2 --db "$T/single/r.db" --junit "$T/single/junit.xml" \
  --scratch "$T/single" > "$T/single/report.txt" 2>/dev/null
rc=$?
[ $rc -le 1 ] || fail "single run: exit $rc"
"$TORN" check "$TRACE" "${CHECK[@]}" --db "$T/single/r.db" --json > "$T/single/result.json" 2>/dev/null
[ $? -le 1 ] || fail "single run's JSON"
SINGLE_RC=$rc

step "slurm up"
slurm_up "$T/slurm" || fail "slurm did not come up"

step "submit: docs/scale/submit.sh 2 (--time=1, one core per task)"
# Each attempt's scratch directory is its own (SCRATCH/shard-K-ATTEMPT), so a killed attempt's e2fsck
# can be told apart.
ids=$(TORN=$TORN SCRATCH=$T/scratch SBATCH_ARGS="--time=1 --cpus-per-task=1" \
  "$SRC/docs/scale/submit.sh" 2 "$TRACE" "$T/out" "${CHECK[@]}") || fail "submit.sh"
read -r ARRAY MERGE <<< "$ids"
step "array $ARRAY, merge $MERGE"

states() { sqlite3 "$T/out/shard-$1.db" "SELECT count(*) FROM states" 2>/dev/null || echo 0; }
# Processes of task $1's attempt $2 (e2fsck names its state image, torn its scratch directory).
ours() { pgrep -f -- "$T/scratch/shard-$1-$2/" 2>/dev/null | wc -l; }
attempt() { sed -n 's/.*Restarts=\([0-9]*\).*/\1/p' < <(scontrol show job "$1") | head -1; }

# Task 1: requeued by hand once it has stored some states.
for _ in $(seq 300); do [ "$(states 1)" -ge 50 ] && break; sleep 0.2; done
before=$(states 1)
[ "$before" -ge 50 ] || fail "task 1 stored no states in 60 s"
step "requeue ${ARRAY}_1 with $before states stored"
scontrol requeue "${ARRAY}_1" || fail "scontrol requeue"
for _ in $(seq 100); do [ "$(slurm_state "${ARRAY}_1")" = PENDING ] && break; sleep 0.2; done
sleep 1
[ "$(ours 1 1)" -eq 0 ] || fail "processes of requeued task 1 still run: $(pgrep -af -- "$T/scratch/shard-1-1/")"
# Slurm holds a requeued job back for about two minutes: no need here.
scontrol update JobId="${ARRAY}_1" StartTime=now || fail "scontrol update StartTime"

# Both tasks: ended by the time limit (at least one must be), then requeued with more time.
timeouts=0
declare -A timed_out
for task in 1 2; do
  for _ in $(seq 240); do
    s=$(slurm_state "${ARRAY}_$task")
    case $s in TIMEOUT|COMPLETED|FAILED|CANCELLED|GONE) break ;; esac
    sleep 1
  done
  step "task $task: $s with $(states $task) states stored"
  [ "$s" = COMPLETED ] && continue
  [ "$s" = TIMEOUT ] || fail "task $task ended $s"
  timeouts=$((timeouts + 1))
  timed_out[$task]=1
  n=$(($(attempt "${ARRAY}_$task") + 1))
  sleep 1
  [ "$(ours $task $n)" -eq 0 ] || fail "processes of task $task after its time limit: $(pgrep -af -- "$T/scratch/shard-$task-$n/")"
  scontrol requeue "${ARRAY}_$task" || fail "requeue task $task after its time limit"
  scontrol update JobId="${ARRAY}_$task" TimeLimit=30 StartTime=now || fail "scontrol update task $task"
done
[ $timeouts -ge 1 ] || fail "no task reached its time limit: give them more work (TORN_SLURM_BUDGET)"

step "waiting for the requeued tasks"
slurm_wait 900 "${ARRAY}_1" "${ARRAY}_2" || fail "the tasks did not end"
# A task that ended at its time limit fails the merge's afterok for good (DependencyNeverSatisfied),
# even once requeued and completed: the merge is submitted again, as docs/scale.md tells users to.
if scontrol show job "$MERGE" 2>/dev/null | grep -q 'Reason=DependencyNeverSatisfied'; then
  scancel "$MERGE"
  MERGE=$(OUT=$T/out TORN=$TORN sbatch --parsable --output="$T/out/merge.log" --export=ALL \
    "$SRC/docs/scale/merge.sbatch") || fail "sbatch merge.sbatch"
  step "merge submitted again: job $MERGE"
fi
slurm_wait 300 "$MERGE" || fail "the merge did not end"
for task in 1 2; do
  s=$(slurm_state "${ARRAY}_$task")
  [ "$s" = COMPLETED ] || fail "task $task: $s"
  # Task 1 was requeued by hand; a task that timed out was requeued: their last attempt resumed.
  if [ "$task" = 1 ] || [ -n "${timed_out[$task]:-}" ]; then
    grep -q '"resumed": [1-9]' "$T/out/shard-$task.json" || fail "task $task did not resume from its database"
  fi
done
s=$(slurm_state "$MERGE")
[ "$s" = COMPLETED ] || [ "$SINGLE_RC" -eq 1 ] || fail "merge job: $s"
[ -s "$T/out/result.json" ] || fail "the merge job wrote no result"

step "compare with the single machine"
# The run's own figures (top-level fields of the JSON) and the report's line of them differ.
figures='^  "(seconds|distinct_images|reused_after_replay|resumed|mount_boots|verified)":'
diff <(grep -Ev "$figures" "$T/single/result.json") <(grep -Ev "$figures" "$T/out/result.json") \
  || fail "merged JSON differs from the single run's"
diff <(grep -v "distinct images judged" "$T/single/report.txt") \
  <(grep -v "distinct images judged" "$T/out/report.txt") || fail "merged report differs"
diff <(sed 's/ time="[^"]*"//g' "$T/single/junit.xml") <(sed 's/ time="[^"]*"//g' "$T/out/junit.xml") \
  || fail "merged JUnit differs"
step "PASS: $(grep -c '"id":' "$T/out/result.json") violations, the same as on one machine"

fuzz_on_slurm
