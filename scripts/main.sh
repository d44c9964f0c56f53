#!/usr/bin/env bash
# The README's main command: installs the dependencies, builds torn, and checks the embedded default
# trace (corpus/ext4-long: ext4 recorded through dm-log-writes on Debian's kernel in the lab VM) with
# the default model, every crash state it allows (68,822,006,333 after the mkfs mark, judged class by
# class: about 50 classes, a few seconds on two cores), printing the coverage and the verdict table.
#
#   bash scripts/main.sh              check corpus/ext4-long
#   bash scripts/main.sh --record     first record a fresh trace of the same workload in the lab VM
#                                     (Debian's kernel is fetched into ~/.cache/torn the first time)
#   bash scripts/main.sh TRACE [torn check options...]
#
# Exit status is torn check's: 0 nothing found, 1 violations, 2 error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
torn=$(bash scripts/build.sh)

trace=corpus/ext4-long
if [ "${1:-}" = "--record" ]; then
  shift
  out=$(mktemp -d /tmp/torn-main-XXXXXX)
  trap 'rm -rf "$out"' EXIT
  "$torn" record --vm --workload corpus/ext4-long/workload.sh --size 64M --out "$out/trace"
  trace="$out/trace"
elif [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  trace=$1
  shift
fi
"$torn" info "$trace"
echo
# Not exec: the trap above must still remove a fresh recording.
rc=0
"$torn" check "$trace" --jobs 2 "$@" || rc=$?
exit $rc
