#!/bin/bash
# fuzz-submit.sh N OUT [torn fuzz options...]: a torn fuzz campaign in N shards as a Slurm array, and
# its merge as a job that starts when every shard succeeded (docs/scale.md). Prints the two job ids.
# TORN (default: torn on PATH) is the binary the jobs run; extra sbatch options go in SBATCH_ARGS
# (for example SBATCH_ARGS="--time=4:00:00 --partition=batch").
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: fuzz-submit.sh N OUT [torn fuzz options...]" >&2; exit 2; }
N=$1 OUT=$2
shift 2
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
HERE=$(dirname "$(realpath "$0")")
export OUT TORN=${TORN:-torn}
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of options
shards=$(sbatch --parsable ${SBATCH_ARGS:-} --array="1-$N" --output="$OUT/shard-%a.log" --export=ALL \
  "$HERE/fuzz-shard.sbatch" "$@")
merge=$(sbatch --parsable --dependency="afterok:$shards" --output="$OUT/merge.log" --export=ALL \
  "$HERE/fuzz-merge.sbatch")
echo "$shards $merge"
