#!/usr/bin/env bash
# Installs what torn needs to build, test and record, from Debian's archive only. Idempotent: it does
# nothing when every package is already there. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  # libraries
  libfmt-dev libsqlite3-dev sqlite3 libboost-graph-dev libgtest-dev libzstd-dev libcli11-dev
  nlohmann-json3-dev libdevmapper-dev libext2fs-dev libxxhash-dev libssl-dev
  # tools torn runs
  zstd e2fsprogs util-linux dmsetup kmod cpio busybox-static qemu-system-x86
  # libfaketime: e2fsck under a fixed clock, to compare in-process journal recovery with it
  faketime
  # the lab VM: unpacking the kernel package, extracting its uncompressed image
  xz-utils dpkg apt
  # loop.ko mutants for torn gate (scripts/build-loop-variant.sh): Debian's kernel source and the headers
  # of the lab VM's kernel. The lab boots the release linux-image-amd64 names when first used
  # (lab/kernel.cc) and keeps it; linux-headers-amd64 names the same release, and the headers of each
  # release already in torn's kernel cache are added below (linux-headers-<release>).
  linux-source-6.1 linux-headers-amd64 make gcc patch
  # file systems for `torn record --fs xfs|btrfs` and `torn gate --outer xfs|btrfs` (xfs_repair, btrfs
  # check); xfs_io does the gate workload's O_SYNC and O_DIRECT writes
  xfsprogs btrfs-progs
  chromium  # tests/html_report_test.cc loads torn report's page in headless Chromium
  # the Slurm test (tests/slurm_test.sh): a single-node Slurm and its authentication, started by hand
  slurm-wlm munge
)

cache=${TORN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/torn}
for d in "$cache"/kernels/*/root/lib/modules/*; do
  [ -d "$d" ] && PACKAGES+=("linux-headers-$(basename "$d")")
done

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "torn: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
