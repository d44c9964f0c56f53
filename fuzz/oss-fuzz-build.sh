#!/usr/bin/env bash
# Builds torn's fuzz targets the OSS-Fuzz way ($CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE, into
# $OUT), with their seed corpora $OUT/<target>_seed_corpus.zip and options files. fuzz/run.sh (CI)
# builds through this script too, so there is one build path.
#
#   log_reader_fuzzer  the dm-log-writes reader; seeds: synthetic logs of every entry kind and the heads
#                      of the logs of tests/samples and corpus/ (fuzz/make_seeds.cc)
#   workload_fuzzer    the workload language, the runner's promise bookkeeping (in process); seeds:
#                      campaign/generate.h's workloads in its record encoding (every 1-step one, every
#                      97th 2-step one). In process only, unless TORN_FUZZ_CAMPAIGN_MODE=1: then it is
#                      built with campaign mode (-DTORN_FUZZ_RECORD=ON; TORN_FUZZ_RECORD=1 at run time
#                      records every input in the lab VM, docs/fuzz.md)
#   recovery_fuzzer    only with TORN_FUZZ_RECOVERY=1 (fuzz/run.sh sets it): it compares with the real
#                      e2fsck under libfaketime on a base crash-state image made by `torn replay`, none
#                      of which OSS-Fuzz's runner image has (its Initialize would abort, and OSS-Fuzz's
#                      build check would call the target broken). With it: $OUT/recovery_fuzzer, its
#                      seeds, and the base image $OUT/recovery_fuzzer_base.img (TORN_RECOVERY_BASE);
#                      the states are replayed with $TORN (default build/cli/torn, the regular build).
#
# Local use, the way OSS-Fuzz calls it:
#   CC=clang CXX=clang++ CFLAGS="-fsanitize=address,fuzzer-no-link" CXXFLAGS="-fsanitize=address,fuzzer-no-link" \
#     LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out bash fuzz/oss-fuzz-build.sh
# The source is this script's checkout ($SRC/torn on OSS-Fuzz); the CMake build goes to $WORK/torn-build
# when $WORK is set (OSS-Fuzz), else to build-fuzz/ (override: TORN_FUZZ_BUILD). The build needs the
# Debian packages of scripts/install-deps.sh (an OSS-Fuzz Dockerfile installs them with apt-get).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
: "${CC:?set CC}" "${CXX:?set CXX}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
build="${TORN_FUZZ_BUILD:-${WORK:+$WORK/torn-build}}"
build="${build:-$src/build-fuzz}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

targets=(log_reader_fuzzer workload_fuzzer)
[ "${TORN_FUZZ_RECOVERY:-0}" = 1 ] && targets+=(recovery_fuzzer)

CC="$CC" CXX="$CXX" cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTORN_FUZZ=ON \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" -DTORN_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DTORN_FUZZ_RECORD="$([ "${TORN_FUZZ_CAMPAIGN_MODE:-0}" = 1 ] && echo ON || echo OFF)" >/dev/null
ninja -C "$build" "${targets[@]}" torn_fuzz_seeds >"$build/ninja-fuzz.log" ||
  { tail -60 "$build/ninja-fuzz.log" >&2; echo "fuzz build FAILED ($build/ninja-fuzz.log)" >&2; exit 1; }
for t in "${targets[@]}"; do cp "$build/fuzz/$t" "$OUT/"; done

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
seedzip() {  # seedzip TARGET DIR: $OUT/TARGET_seed_corpus.zip from DIR's files
  rm -f "$OUT/$1_seed_corpus.zip"
  (cd "$2" && zip -q -r "$OUT/$1_seed_corpus.zip" .)
  echo "$1: $(ls "$2" | wc -l) seeds"
}

# log_reader_fuzzer
logs=()
for s in "$src"/tests/samples/*/log.img.zst "$src"/corpus/*/log.zst; do
  name=$(basename "$(dirname "$s")")-$(basename "$s" .zst)
  zstd -q -d -f "$s" -o "$tmp/$name"
  logs+=("$tmp/$name")
done
mkdir "$tmp/log_reader"
"$build/fuzz/torn_fuzz_seeds" "$tmp/log_reader" "${logs[@]}"
seedzip log_reader_fuzzer "$tmp/log_reader"
printf '[libfuzzer]\nmax_len = 65536\ntimeout = 10\n' >"$OUT/log_reader_fuzzer.options"

# workload_fuzzer: at most 16 records of 8 bytes decode (fuzz/workload_codec.h)
mkdir "$tmp/workload"
"$build/fuzz/torn_fuzz_seeds" --workload "$tmp/workload"
seedzip workload_fuzzer "$tmp/workload"
printf '[libfuzzer]\nmax_len = 128\ntimeout = 10\n' >"$OUT/workload_fuzzer.options"

# recovery_fuzzer: crash states of corpus/ext4-default at entries whose journals need recovery; the
# base image is the one with the most transactions (6 committed, 42 log blocks).
if [ "${TORN_FUZZ_RECOVERY:-0}" = 1 ]; then
  torn="${TORN:-$src/build/cli/torn}"
  [ -x "$torn" ] || { echo "recovery_fuzzer: no torn at $torn (bash scripts/build.sh, or set TORN)" >&2; exit 1; }
  states=()
  for e in 120 150 170 185 190; do
    "$torn" replay "$src/corpus/ext4-default" --to-entry "$e" --device-size 67108864 --out "$tmp/state-$e.img" >/dev/null
    states+=("$tmp/state-$e.img")
  done
  mkdir "$tmp/recovery"
  "$build/fuzz/torn_fuzz_seeds" --recovery "$tmp/recovery" "${states[@]}"
  seedzip recovery_fuzzer "$tmp/recovery"
  cp --sparse=always "$tmp/state-185.img" "$OUT/recovery_fuzzer_base.img"
  printf '[libfuzzer]\nmax_len = %d\ntimeout = 60\n' $((1 + 64 * 1024)) >"$OUT/recovery_fuzzer.options"
fi
