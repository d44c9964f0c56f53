#!/bin/sh
# torn gate for kernel CI systems (KernelCI, a lab's Jenkins, a plain cron job): build torn, run the
# gate in both loop modes on a kernel tree that has been built, and exit like the gate does
# (0 all pass, 1 a crash state fails, 2 an error). Run as root (the lab VM needs qemu and loop files).
#
#   docs/ci/gate.sh KERNEL_TREE [TORN_TREE] [OUT_DIR]
#
# KERNEL_TREE must have been built with `make bzImage modules` (loop, ext4, dm-mod, dm-log-writes,
# virtio_blk, virtio_pci as modules or built in); the modules are installed into OUT_DIR/mods here.
set -eu
KTREE=${1:?usage: gate.sh KERNEL_TREE [TORN_TREE] [OUT_DIR]}
TORN_TREE=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=${3:-$PWD/torn-gate-out}
mkdir -p "$OUT"

cmake -S "$TORN_TREE" -B "$OUT/torn-build" -G Ninja >/dev/null
ninja -C "$OUT/torn-build" torn
TORN="$OUT/torn-build/cli/torn"

release=$(make -s -C "$KTREE" kernelrelease)
make -s -C "$KTREE" modules_install INSTALL_MOD_PATH="$OUT/mods" >/dev/null
MODS="$OUT/mods/lib/modules/$release"

status=0
for mode in buffered direct; do
  rc=0
  "$TORN" gate --kernel "$KTREE/arch/x86/boot/bzImage" --modules "$MODS" --loop-mode "$mode" \
    --junit "$OUT/gate-$mode.xml" --json > "$OUT/gate-$mode.json" || rc=$?
  echo "torn gate --loop-mode $mode: exit $rc (report: $OUT/gate-$mode.xml)"
  # keep the worst status: 2 (error) over 1 (violations) over 0
  if [ $rc -eq 2 ] || { [ $rc -eq 1 ] && [ $status -eq 0 ]; } || [ $rc -gt 2 ]; then status=$rc; fi
done
exit $status
