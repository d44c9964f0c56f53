#!/usr/bin/env bash
# The README's main command: installs the dependencies, builds torn, and runs the main job on the
# embedded default trace (a real-kernel ext4 log shipped in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
torn=$(bash scripts/build.sh)
trace="${1:-tests/samples/ext4-4k/log.img.zst}"
"$torn" info "$trace"
img=$(mktemp --suffix=.img); trap 'rm -f "$img"' EXIT
"$torn" replay "$trace" --out "$img"
e2fsck -fn "$img"
