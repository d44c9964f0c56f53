#!/usr/bin/env bash
# CI's fuzz run (scripts/test.sh): builds every fuzz target through fuzz/oss-fuzz-build.sh (clang,
# libFuzzer, ASan and UBSan; the same script OSS-Fuzz runs) into build-fuzz/out and runs each for a
# bounded time on its seed corpus plus the corpus kept from earlier runs:
#   log_reader_fuzzer  the dm-log-writes reader;
#   workload_fuzzer    the workload language and the runner's promise bookkeeping, in process;
#   recovery_fuzzer    in-process journal recovery against real e2fsck (clock fixed by libfaketime), on
#                      crash states of corpus/ext4-default rebuilt with the regular build's `torn
#                      replay` (built first if missing).
# Exit status non-zero on any crash, leak, sanitizer report, broken rule or recovery difference.
# Usage: fuzz/run.sh [SECONDS]   (default 60 per target; CI passes TORN_FUZZ_SECONDS through
# scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
out="$build/out"
torn=build/cli/torn
[ -x "$torn" ] || { bash scripts/build.sh >/dev/null && ninja -C build torn >/dev/null; }
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$out" \
  TORN_FUZZ_BUILD="$build" TORN_FUZZ_RECOVERY=1 TORN="$torn" bash fuzz/oss-fuzz-build.sh | sed 's/^/fuzz: /'

# run TARGET [libFuzzer flags...]: the target for $seconds on its seeds, its corpus kept in build-fuzz/
run() {
  local t=$1; shift
  local seeds="$build/$t-seeds" corpus="$build/$t-corpus" log="$build/$t.log"
  rm -rf "$seeds"; mkdir -p "$seeds" "$corpus"
  unzip -q "$out/${t}_seed_corpus.zip" -d "$seeds"
  echo "fuzz: $t for ${seconds} s ($(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) kept)"
  "$out/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/$t-" \
    "$@" "$corpus" "$seeds" 2>"$log" || { tail -40 "$log"; echo "fuzz: $t FAILED (artifact in $build/)"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|outcomes:" "$log" |
    sed 's/^/fuzz: /'
  echo "fuzz: $t ran clean ($(ls "$corpus" | wc -l) in its corpus)"
}
run log_reader_fuzzer -max_len=65536 -timeout=10
run workload_fuzzer -max_len=128 -timeout=10
TORN_RECOVERY_BASE="$out/recovery_fuzzer_base.img" run recovery_fuzzer -max_len=$((1 + 64 * 1024)) -timeout=60
