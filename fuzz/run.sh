#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer, ASan, UBSan; every torn library instrumented) and
# runs each for a bounded time from a seed corpus made of the tests' synthetic logs and the heads of
# the real-kernel samples. Exit status non-zero on any crash, leak or sanitizer report.
# Usage: fuzz/run.sh [SECONDS]   (default 60; CI passes TORN_FUZZ_SECONDS through scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTORN_FUZZ=ON -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  >/dev/null
ninja -C "$build" log_reader_fuzzer torn_fuzz_seeds >/dev/null

seeds="$build/fuzz-seeds"; corpus="$build/fuzz-corpus"
rm -rf "$seeds"; mkdir -p "$seeds" "$corpus"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
samples=()
for s in tests/samples/*/log.img.zst; do
  name=$(basename "$(dirname "$s")")
  zstd -q -d -f "$s" -o "$tmp/$name.log"
  samples+=("$tmp/$name.log")
done
"$build/fuzz/torn_fuzz_seeds" "$seeds" "${samples[@]}"

echo "fuzz: log_reader_fuzzer for ${seconds} s ($(ls "$seeds" | wc -l) seeds)"
"$build/fuzz/log_reader_fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/" "$corpus" "$seeds" \
  2>"$build/fuzz.log" || { tail -40 "$build/fuzz.log"; echo "fuzz: FAILED (artifact in $build/)"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz.log" | sed 's/^/fuzz: /'
echo "fuzz: log_reader_fuzzer ran clean"
