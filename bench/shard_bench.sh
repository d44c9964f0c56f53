#!/usr/bin/env bash
# Shards on this machine and the merge (docs/scale.md, "Speed"):
#   1 task   torn check TRACE --jobs 2 (the whole check, one process)
#   2 tasks  torn check TRACE --shard K/2 --jobs 1, both at once (what a 2-task Slurm array runs)
# wall time and states covered of each, then torn merge of the two shards (time, database size), the
# merged result checked against the whole run's; then the merge time of a large database: the shards'
# rows copied up to ROWS states (default 10^6; synthetic: the same rows again under other state ids,
# each shard keeping its residue), merged again.
# Both runs with --minimize 0: torn merge groups signatures but minimizes none (docs/scale.md).
# Usage: bench/shard_bench.sh [TORN] [TRACE] [BUDGET] [ROWS]  (default: corpus/ext4-nobarrier, 10000
# states, 1000000 rows). Needs sqlite3. Figures depend on the machine's load: run it on a quiet one.
set -euo pipefail
cd "$(dirname "$0")/.."
TORN=${1:-build/cli/torn}
TRACE=${2:-corpus/ext4-nobarrier}
BUDGET=${3:-10000}
ROWS=${4:-1000000}
W=$(mktemp -d /tmp/torn-shard-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | xargs printf '%.1f'; }
covered() { sed -n 's/^    "covered": \(.*\),\{0,1\}$/\1/p' "$1" | head -1 | tr -d ','; }
mib() { du -m "$1" | cut -f1; }
figures='^  "(seconds|distinct_images|reused_after_replay|resumed|mount_boots|verified)":'

echo "trace $TRACE, --budget $BUDGET, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
t=$(now)
"$TORN" check "$TRACE" --budget "$BUDGET" --minimize 0 --jobs 2 --db "$W/whole.db" --json > "$W/whole.json" 2>/dev/null || [ $? -eq 1 ]
echo "1 task  (--jobs 2):             $(since "$t") s wall, $(covered "$W/whole.json") states covered"
t=$(now)
for k in 1 2; do
  "$TORN" check "$TRACE" --budget "$BUDGET" --minimize 0 --jobs 1 --shard "$k/2" --db "$W/s$k.db" --json > "$W/s$k.json" 2>/dev/null &
done
wait || true
echo "2 tasks (--shard K/2 --jobs 1): $(since "$t") s wall, $(covered "$W/s1.json") + $(covered "$W/s2.json") states covered"
t=$(now)
"$TORN" merge "$W/merged.db" "$W/s1.db" "$W/s2.db" --json > "$W/merged.json" 2>/dev/null || [ $? -eq 1 ]
states=$(sqlite3 "$W/merged.db" "SELECT count(*) FROM states")
echo "merge: $(since "$t") s for $states states ($(mib "$W/s1.db") + $(mib "$W/s2.db") MiB of shards, $(mib "$W/merged.db") MiB merged; the report included)"
diff -q <(grep -Ev "$figures" "$W/whole.json") <(grep -Ev "$figures" "$W/merged.json") >/dev/null \
  && echo "merged result: the same as the 1-task run's" || echo "merged result: DIFFERS from the 1-task run's"

# A large database: each shard's rows again under state ids shifted by multiples of 2^41 (the parity,
# so the shard, kept; members' ids use bits 40 and up, so 2^41 keeps them apart).
for k in 1 2; do
  have=$(sqlite3 "$W/s$k.db" "SELECT count(*) FROM states")
  copies=$(( (ROWS / 2 + have - 1) / have - 1 ))
  sqlite3 "$W/s$k.db" <<SQL
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $copies)
INSERT INTO states SELECT s.run_id, s.state_id + c.n * 2199023255552, s.model, s.segment, s.crash_point, s.base_end,
  s.dropped, s.torn, s.digest, s.reused_from, s.covers, s.class_key, s.fixed FROM states s, c WHERE s.state_id < 2199023255552;
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $copies)
INSERT INTO verdicts SELECT v.run_id, v.state_id + c.n * 2199023255552, v.oracle, v.ok, v.detail, v.output
  $(sqlite3 "$W/s$k.db" "SELECT count(*) FROM pragma_table_info('verdicts') WHERE name = 'signature'" | sed 's/^1$/, v.signature/;s/^0$//')
  FROM verdicts v, c WHERE v.state_id < 2199023255552;
SQL
done
t=$(now)
"$TORN" merge "$W/large.db" "$W/s1.db" "$W/s2.db" > /dev/null 2>"$W/large.err" || [ $? -eq 1 ]
states=$(sqlite3 "$W/large.db" "SELECT count(*) FROM states")
echo "merge, large: $(since "$t") s for $states states ($(mib "$W/s1.db") + $(mib "$W/s2.db") MiB of shards, $(mib "$W/large.db") MiB merged; the report included)"
t=$(now)
"$TORN" merge "$W/large.db" "$W/s1.db" "$W/s2.db" > /dev/null 2>&1 || [ $? -eq 1 ]
echo "merge, large, again (nothing to change): $(since "$t") s"
