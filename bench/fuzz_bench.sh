#!/usr/bin/env bash
# fuzz_bench.sh: torn fuzz's throughput end to end (issue 13, "Throughput"): workloads per hour and
# crash states covered per hour for 2-step workloads, on this machine (the lab VM under TCG here).
#
#   bench/fuzz_bench.sh [TORN]        N=48 (workloads), EVERY=461 (spread over the 22,062 of length
#                                     1-2, so most have 2 steps), PER_BOOT=24, STATES=300
#
# A fresh campaign database each run; prints torn fuzz's own summary (record and check seconds,
# boots) and the two rates. Figures are measured, never asserted: this is a benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
torn=${1:-$here/../build/cli/torn}
work=$(mktemp -d /tmp/torn-fuzz-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$torn" fuzz --db "$work/c.db" --length 2 --every "${EVERY:-461}" --workloads "${N:-48}" \
  --per-boot "${PER_BOOT:-24}" --states "${STATES:-300}" --json --quiet > "$work/out.json" || true
python3 - "$work/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["seconds"] / 3600
print(f"workloads {r['this_run']} in {r['seconds']:.0f} s ({r['boots']} boots; record {r['record_seconds']:.0f} s, "
      f"check {r['check_seconds']:.0f} s); findings {len(r['findings'])}")
print(f"workloads/hour        {r['this_run'] / h:.0f}")
print(f"states covered/hour   {r['states_covered'] / h:.3g}")
print(f"states judged/hour    {r['states_judged'] / h:.3g}")
PY
