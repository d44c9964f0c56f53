#!/usr/bin/env bash
# Runs every benchmark and prints its figures (machine load changes them: run on a quiet machine).
# Usage: bench/run.sh [TRACE]   (TRACE for the check benchmark; default corpus/ext4-default)
set -euo pipefail
cd "$(dirname "$0")/.."
torn=$(bash scripts/build.sh)
echo "== replay (torn_bench_replay): MiB/s of log data applied, peak RSS"
build/bench/torn_bench_replay
echo "== states (torn_bench_states): states/s generated, images/s materialized vs from scratch"
build/bench/torn_bench_states
echo "== mount oracle in the lab VM (torn_bench_mount_vm): boot seconds, seconds per image (boots qemu)"
build/bench/torn_bench_mount_vm
echo "== check (check_bench.sh): torn check vs the reference loop on the same checkpoints"
bash bench/check_bench.sh "$torn" "${1:-corpus/ext4-default}" mkfs 1000
echo "== classes (classes_bench.sh): states covered per second with classes vs --no-classes vs the reference loop"
bash bench/classes_bench.sh "$torn"
