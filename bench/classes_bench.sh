#!/usr/bin/env bash
# classes_bench.sh: states covered per second by torn check with classes, against torn check state by
# state (--no-classes) and against the replay-from-zero loop users run today, on the same traces, in
# one run.
#
#   bench/classes_bench.sh [TORN] [TRACE...]      (default: corpus/ext4-default corpus/ext4-long
#                                                  corpus/ext4-long-data-journal)
#
# For each trace, the default model (fua-barrier), crash points from the mkfs mark, --jobs 2:
#   1. torn check with classes, every state: seconds, states covered, classes judged, covered/s, peak
#      RSS (from /usr/bin/time when it is there);
#   2. torn check --no-classes with a budget (BUDGET, default 2000 states): states judged per second;
#   3. the reference loop (check_bench.sh's: replay the raw log from entry 0 onto a fresh image, then
#      e2fsck -E journal_only -y and e2fsck -fn) over REF states (default 200) of the --no-classes run:
#      states per second;
#   4. the ratios: covered/s with classes over 2 and over 3.
# Figures are measured, never asserted: this is a benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
torn=${1:-$here/../build/cli/torn}
shift || true
traces=("$@")
[ ${#traces[@]} -gt 0 ] || traces=("$here/../corpus/ext4-default" "$here/../corpus/ext4-long" "$here/../corpus/ext4-long-data-journal")
budget=${BUDGET:-2000}
ref=${REF:-200}
work=$(mktemp -d /dev/shm/torn-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4g", a / b; else print "-" }'; }
field() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=j
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
timed() {  # timed OUT RSSFILE CMD...: runs CMD with its stdout in OUT, seconds on stdout
  local out=$1 rss=$2; shift 2
  local t0 t1
  t0=$(now)
  if [ -x /usr/bin/time ]; then /usr/bin/time -f %M -o "$rss" "$@" >"$out" 2>/dev/null || [ $? -eq 1 ]
  else "$@" >"$out" 2>/dev/null || [ $? -eq 1 ]; echo "?" >"$rss"; fi
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

for trace in "${traces[@]}"; do
  name=$(basename "$trace")
  echo "== $name"
  s=$(timed "$work/c.json" "$work/c.rss" "$torn" check "$trace" --jobs 2 --json --db "$work/$name-c.db")
  covered=$(field "$work/c.json" states.covered)
  echo "classes: $(field "$work/c.json" states.possible) possible, $covered covered, $(field "$work/c.json" states.generated) generated, $(field "$work/c.json" states.classes) classes judged, in ${s} s = $(div "$covered" "$s") states covered/s, peak RSS $(cat "$work/c.rss") KiB"
  field "$work/c.json" reductions | sed 's/^/  /'

  s2=$(timed "$work/n.json" "$work/n.rss" "$torn" check "$trace" --jobs 2 --json --no-classes --budget "$budget" --db "$work/$name-n.db")
  n=$(field "$work/n.json" states.checked)
  echo "--no-classes: $n states in ${s2} s = $(div "$n" "$s2") states/s"

  # The reference loop over the first REF states the --no-classes run judged (prepared before the clock).
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
  mapfile -t rows < <(sqlite3 -separator ' ' "$work/$name-n.db" "select crash_point, replace(replace(replace(dropped,'[',''),']',''),' ','') from states order by state_id limit $ref")
  t0=$(now)
  for row in "${rows[@]}"; do
    read -r point dropped <<<"$row"
    drop_args=()
    [ -n "$dropped" ] && drop_args=(--drop "$dropped")
    "$torn" replay "$work/log.raw" --out "$work/ref.img" --to-entry "$point" "${drop_args[@]}" "${size_args[@]}" >/dev/null
    e2fsck -E journal_only -y "$work/ref.img" >/dev/null 2>&1 || true
    e2fsck -fn "$work/ref.img" >/dev/null 2>&1 || true
  done
  t1=$(now)
  rs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  echo "reference loop: ${#rows[@]} states in ${rs} s = $(div "${#rows[@]}" "$rs") states/s"
  echo "ratio covered/s: classes / --no-classes = $(div "$(div "$covered" "$s")" "$(div "$n" "$s2")")x, classes / reference = $(div "$(div "$covered" "$s")" "$(div "${#rows[@]}" "$rs")")x"
done
