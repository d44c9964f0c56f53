// The mount oracle: the kernel's own journal replay. The state's image (before e2fsck touched it) is
// copied, attached to a loop device and mounted as ext4; a mount that fails is a verdict; after the
// unmount, e2fsck -fn judges what the kernel left.
//
// Mounting a corrupt image can crash the kernel that mounts it, so DESIGN.md wants this in the lab VM
// by default and on the host only when asked (--host-mount). The lab VM path needs the recorder
// branch's lab/ library, which has not landed: without --host-mount the oracle is unavailable and says
// so.
#pragma once

#include "base/status.h"
#include "checker/fsck.h"
#include "checker/state_image.h"
#include "checker/verdict.h"

namespace torn::checker {

// Ok when the mount oracle can run here (host: root and /dev/loop-control; VM: not yet).
Status MountAvailable(bool host);

// Judges the state on `image` (not yet modified by another oracle); the image itself is not written.
Result<Verdict> CheckMount(const StateImage& image, const FsckOptions& fsck, bool host);

}  // namespace torn::checker
