#!/usr/bin/env bash
# The test command of the README: installs the dependencies, builds, runs every test (unit and
# end-to-end, against the real kernel samples, e2fsck, loop devices) and then the fuzzers for their CI
# budget. Needs root: the end-to-end tests attach loop devices and mount file systems.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
(cd build && ctest --output-on-failure --timeout 1800 -j2)
bash fuzz/run.sh "${TORN_FUZZ_SECONDS:-60}"
