#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer, ASan, UBSan) and runs each for a bounded time.
# Usage: fuzz/run.sh [SECONDS]   (default 60). Exit status non-zero on any crash or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
echo "fuzz: skipped until the fuzz targets land" >&2
