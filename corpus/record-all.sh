#!/usr/bin/env bash
# Re-records the whole corpus with `torn record --vm` (each folder: its workload.sh -> the trace files
# beside it). Usage: corpus/record-all.sh [NAME...]   (default: every trace). TORN=path/to/torn to
# use a given binary; otherwise the tree is built first. A failed recording leaves that folder as it
# was and makes the script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")"
TORN=${TORN:-$(bash ../scripts/build.sh)}

# name | torn record options (beyond --workload/--out)
TRACES=(
  "ext4-default|--size 64M"
  "ext4-nobarrier|--size 64M --mount-opts barrier=0"
  "ext4-data-journal|--size 64M --mount-opts data=journal"
  "ext4-fast-commit|--size 64M --mkfs-opts -Ofast_commit"
  "ext4-4k|--size 64M --sector 4096"
  "ext4-on-loop-on-ext4|--size 64M"
  "ext4-long|--size 64M"
  "ext4-long-data-journal|--size 64M --mount-opts data=journal"
  "ext4-rsync|--size 64M"
  "ext4-rsync-remount|--size 64M"
)

want=("$@")
for entry in "${TRACES[@]}"; do
  name=${entry%%|*}
  opts=${entry#*|}
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  echo "== $name ($opts)" >&2
  # shellcheck disable=SC2086  # opts is a list of words
  "$TORN" record --vm --quiet --overwrite --workload "$name/workload.sh" --out "$name" $opts
done
