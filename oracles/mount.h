// The mount oracle on the host (--host-mount): the kernel's own journal replay. The state's image
// (before e2fsck touched it) is copied, attached to a loop device and mounted as ext4; a mount that
// fails is a verdict; after the unmount, e2fsck -fn judges what the kernel left.
//
// Mounting a corrupt image can crash the kernel that mounts it, so the default is the lab VM
// (mount_vm.h, batched by mount_batch.h); this host path runs only when asked.
#pragma once

#include "base/status.h"
#include "oracles/fsck.h"
#include "checker/state_image.h"
#include "oracles/verdict.h"

namespace torn::oracles {

// Ok when the host path can run here: root and /dev/loop-control.
Status HostMountAvailable();

// Judges the state on the image file `image` (not yet modified by another oracle) on the host kernel;
// the kernel gets a copy made in `scratch_dir`, so the image itself is not written.
Result<Verdict> CheckMount(const std::string& image, const std::string& scratch_dir, const FsckOptions& fsck);

}  // namespace torn::oracles
