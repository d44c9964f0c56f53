#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer, ASan, UBSan; every torn library instrumented) and
# runs each for a bounded time:
#   log_reader_fuzzer  from a seed corpus made of the tests' synthetic logs and the heads of the
#                      real-kernel samples;
#   recovery_fuzzer    in-process journal recovery against real e2fsck (clock fixed by libfaketime), on
#                      crash states of corpus/ext4-default rebuilt with the regular build's `torn
#                      replay` (built first if missing); seeds are their journals' first blocks.
# Exit status non-zero on any crash, leak, sanitizer report or recovery difference.
# Usage: fuzz/run.sh [SECONDS]   (default 60 per target; CI passes TORN_FUZZ_SECONDS through
# scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTORN_FUZZ=ON -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  >/dev/null
ninja -C "$build" log_reader_fuzzer recovery_fuzzer torn_fuzz_seeds >/dev/null

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

# Recovery: crash states of the default trace at entries whose journals need recovery (the base image
# is the one with the most transactions: 6 committed, 42 log blocks).
torn=build/cli/torn
[ -x "$torn" ] || { bash scripts/build.sh >/dev/null && ninja -C build torn >/dev/null; }
rseeds="$build/fuzz-recovery-seeds"; rcorpus="$build/fuzz-recovery-corpus"
rm -rf "$rseeds"; mkdir -p "$rseeds" "$rcorpus"
states=()
for e in 120 150 170 185 190; do
  "$torn" replay corpus/ext4-default --to-entry "$e" --device-size 67108864 --out "$tmp/state-$e.img" >/dev/null
  states+=("$tmp/state-$e.img")
done
"$build/fuzz/torn_fuzz_seeds" --recovery "$rseeds" "${states[@]}"
echo "fuzz: recovery_fuzzer for ${seconds} s ($(ls "$rseeds" | wc -l) seeds)"
TORN_RECOVERY_BASE="$tmp/state-185.img" "$build/fuzz/recovery_fuzzer" -max_total_time="$seconds" \
  -max_len=$((1 + 64 * 1024)) -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$build/recovery-" "$rcorpus" "$rseeds" 2>"$build/fuzz-recovery.log" ||
  { tail -40 "$build/fuzz-recovery.log"; echo "fuzz: recovery_fuzzer FAILED (artifact in $build/)"; exit 1; }
grep -E "stat::number_of_executed_units|stat::peak_rss_mb|outcomes:" "$build/fuzz-recovery.log" | sed 's/^/fuzz: /'
echo "fuzz: recovery_fuzzer ran clean"
