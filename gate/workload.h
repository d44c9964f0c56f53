// The gate workload: what runs on the outer ext4 in the lab VM while the lower device is logged.
//
// torn makes and mounts the outer ext4 at $MNT (mount -o barrier=0 for --inject outer-nobarrier) and
// runs the workload with these variables set (WorkloadPreamble):
//   BACKING           $MNT/inner.img, the loop device's backing file (the gate extracts this path)
//   LOOP_OPTS         "" (buffered) or "--direct-io=on" (--loop-mode direct), for /usr/sbin/losetup
//   INNER             /tmp/inner, where the inner ext4 is mounted
//   INNER_MOUNT_OPTS  "" or "barrier=0" (--inject inner-nobarrier)
// A workload (the built-in one, or --workload SCRIPT) must:
//   1. create $BACKING, attach it with `/usr/sbin/losetup --find --show $LOOP_OPTS $BACKING`, make the
//      inner ext4 on the loop device and mount it at $INNER with $INNER_MOUNT_OPTS;
//   2. `sync`, then `mark gate-setup`: crash states are checked from this mark on;
//   3. write to the inner file system and record its manifests with `manifest inner-NAME $INNER`
//      (the key convention: a manifest whose mark starts with "inner-" describes the inner file system,
//      read from the backing file; any other manifest describes the outer one). `manifest NAME DIR`
//      syncs DIR's file system only (syncfs), so each inner manifest says what the inner file system's
//      own sync must have made durable on the lower device.
#pragma once

#include <string>

#include "gate/gate.h"

namespace torn::gate {

std::string DefaultWorkload();
// The console line the preamble prints about the guest's loop module (GateResult::loop_module).
inline constexpr const char* kLoopModuleLine = "torn-gate: loop module: ";
// Shell assignments for the variables above, to put before the workload's text.
std::string WorkloadPreamble(const GateOptions& options);

}  // namespace torn::gate
