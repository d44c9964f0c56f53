# Sourced by tests/slurm_test.sh (after tests/slurm/cluster.sh; uses its T, TORN, SRC, fail, step):
# a short torn fuzz campaign as a 2-task array (docs/scale/fuzz-submit.sh) and its merge. The merged
# database must be exactly the union of the shards' rows; with the same campaign run on one machine it
# shares the workloads (id, text, status) and the counts, not the findings: two recordings of one
# workload differ (docs/scale.md). The campaign: ext4 -O fast_commit, every 37th 1-step workload (4
# workloads; campaign/fuzz_shard_vm_test.cc runs it without Slurm). The tasks ask for every CPU of the
# node, so they run one after the other: one lab VM at a time.
# json_number KEY FILE: a top-level number of torn's JSON (two-space indent).
json_number() { sed -n "s/^  \"$1\": \([0-9.e+]*\),*$/\1/p" "$2"; }

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
  # The merge job exits 1 (FAILED) when the campaign has findings: docs/scale/fuzz-merge.sbatch.
  [ "$s" = COMPLETED ] || { [ "$s" = FAILED ] && grep -q '"signature":' "$F/out/result.json"; } \
    || fail "fuzz merge job: $s"
  [ -s "$F/out/result.json" ] || fail "the fuzz merge job wrote no result"
  # With the single machine: what a recording cannot decide.
  local workloads="SELECT id, text, status FROM workloads ORDER BY id" key
  diff <(sqlite3 "$F/single/c.db" "$workloads") <(sqlite3 "$F/out/all.db" "$workloads") \
    || fail "the merged campaign's workloads differ from the single machine's"
  for key in considered done record_failed; do
    [ "$(json_number "$key" "$F/single/result.json")" = "$(json_number "$key" "$F/out/result.json")" ] \
      || fail "merged $key differs from the single machine's"
  done
  # With the shards: every row exactly (all columns but the trace's path), the coverage their sum.
  local cols="id, text, status, detail, possible, covered, judged, violations" table order
  for table in workloads findings; do
    order="id"; [ $table = findings ] && { cols="*"; order="workload, signature"; }
    diff <(sqlite3 "$F/out/all.db" "SELECT $cols FROM $table ORDER BY $order") \
      <(sqlite3 "$F/out/all.db" "ATTACH '$F/out/shard-1.db' AS s1; ATTACH '$F/out/shard-2.db' AS s2;
          SELECT $cols FROM (SELECT * FROM s1.$table UNION ALL SELECT * FROM s2.$table) ORDER BY $order") \
      || fail "the merged $table are not the shards' rows"
  done
  local sum merged
  for key in states_possible states_covered states_judged; do
    sum=$(for k in 1 2; do json_number "$key" "$F/out/shard-$k.json"; done | awk '{ s += $1 } END { printf "%.0f", s }')
    merged=$(json_number "$key" "$F/out/result.json" | awk '{ printf "%.0f", $1 }')
    [ -n "$sum" ] && [ "$sum" = "$merged" ] || fail "merged $key $merged, the shards' sum $sum"
  done
  s=$("$TORN" merge "$F/out/all.db" "$F/out"/shard-*.db 2>&1 >/dev/null)
  [[ $s == *"nothing changed"* ]] || fail "merging the campaign again changed it: $s"
  step "fuzz PASS: $(json_number done "$F/out/result.json") workloads as on one machine, $(grep -c '"signature":' "$F/out/result.json") signatures: the shards' findings"
}
