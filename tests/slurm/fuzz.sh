# Sourced by tests/slurm_test.sh (after tests/slurm/cluster.sh; uses its T, TORN, SRC, fail, step):
# a short torn fuzz campaign as a 2-task array (docs/scale/fuzz-submit.sh) and its merge, compared with
# the same campaign on one machine. The campaign: ext4 -O fast_commit, every 37th 1-step workload (4
# workloads, 2 with findings; campaign/fuzz_shard_vm_test.cc runs it without Slurm). The tasks ask for
# every CPU of the node, so they run one after the other: one lab VM at a time.
fuzz_on_slurm() {
  local F=$T/fuzz rc ids array merge task s
  local opts=(--mkfs-opts=-Ofast_commit --length 1 --every 37 --states 300 --check-time 60)
  mkdir -p "$F/single" "$F/out"
  step "fuzz, single machine: torn fuzz ${opts[*]}"
  "$TORN" fuzz --db "$F/single/c.db" "${opts[@]}" --json --quiet > "$F/single/result.json" 2> "$F/single/err"
  rc=$?
  [ $rc -le 1 ] || fail "single fuzz campaign: exit $rc: $(tail -3 "$F/single/err")"
  if [ -z "$SLURM_DIR" ]; then
    step "slurm up"
    slurm_up "$T/slurm" || fail "slurm did not come up"
  fi
  ids=$(TORN=$TORN SBATCH_ARGS="--time=10 --cpus-per-task=$(nproc)" \
    "$SRC/docs/scale/fuzz-submit.sh" 2 "$F/out" "${opts[@]}") || fail "fuzz-submit.sh"
  read -r array merge <<< "$ids"
  step "fuzz: array $array, merge $merge"
  slurm_wait 600 "${array}_1" "${array}_2" || fail "the fuzz tasks did not end"
  for task in 1 2; do
    s=$(slurm_state "${array}_$task")
    [ "$s" = COMPLETED ] || fail "fuzz task $task: $s"
  done
  slurm_wait 120 "$merge" || fail "the fuzz merge did not end"
  s=$(slurm_state "$merge")
  [ "$s" = COMPLETED ] || [ $rc -eq 1 ] || fail "fuzz merge job: $s"
  [ -s "$F/out/result.json" ] || fail "the fuzz merge job wrote no result"
  # Compared with the single machine: what does not depend on the recording. Not the run's own
  # figures, nor the traces' paths, nor the crash states (possible, covered, judged; a signature's
  # states and first message): a workload recorded twice gives traces a few log entries apart, so
  # those differ between any two runs, sharded or not (docs/scale.md).
  local figures='^ *"(seconds|record_seconds|check_seconds|this_run|boots|shard|states_possible|states_covered|states_judged|states|detail|trace|reproduce)":'
  diff <(grep -Ev "$figures" "$F/single/result.json") <(grep -Ev "$figures" "$F/out/result.json") \
    || fail "merged campaign differs from the single machine's"
  # Those the merge must carry exactly: the shards' sums.
  local key sum merged
  for key in states_possible states_covered states_judged; do
    sum=$(sed -n "s/^  \"$key\": \([0-9.e+]*\),*$/\1/p" "$F/out"/shard-[12].json | awk '{ s += $1 } END { printf "%.0f", s }')
    merged=$(sed -n "s/^  \"$key\": \([0-9.e+]*\),*$/\1/p" "$F/out/result.json" | awk '{ printf "%.0f", $1 }')
    [ -n "$sum" ] && [ "$sum" = "$merged" ] || fail "merged $key $merged, the shards' sum $sum"
  done
  s=$("$TORN" merge "$F/out/all.db" "$F/out"/shard-*.db 2>&1 >/dev/null)
  [[ $s == *"nothing changed"* ]] || fail "merging the campaign again changed it: $s"
  step "fuzz PASS: $(grep -c '"signature":' "$F/out/result.json") signatures, the same as on one machine"
}
