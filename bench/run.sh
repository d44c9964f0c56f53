#!/usr/bin/env bash
# Runs every benchmark and prints its figures. Usage: bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
echo "== replay (torn_bench_replay): MiB/s of log data applied, peak RSS"
build/bench/torn_bench_replay
