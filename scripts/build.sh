#!/usr/bin/env bash
# Configures and builds torn into build/ (Ninja, RelWithDebInfo). Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build >&2
echo "$PWD/build/cli/torn"
