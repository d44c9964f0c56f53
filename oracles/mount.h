// The mount oracle on the host (--host-mount): the kernel's own journal replay. The state's image
// (before e2fsck touched it) is copied, attached to a loop device and mounted as ext4; a mount that
// fails is a verdict. Once mounted, the tree is walked (tree_walk.h: readdir and lstat of every entry,
// read of every file and symlink) so that lookup-time errors surface, then unmounted. The first that
// applies is the verdict's detail: the mount's failure; an "EXT4-fs error" line the kernel logged about
// this loop device (kernel_log.h: /dev/kmsg from before the attach to after the detach); an error the
// walk met; a walk cut short by its time limit; e2fsck -fn on what the kernel left.
//
// Mounting a corrupt image can crash the kernel that mounts it, so the default is the lab VM
// (mount_vm.h, batched by mount_batch.h); this host path runs only when asked.
#pragma once

#include <chrono>

#include "base/status.h"
#include "oracles/fsck.h"
#include "oracles/kernel_replay.h"
#include "checker/state_image.h"
#include "oracles/verdict.h"

namespace torn::oracles {

// Ok when the host path can run here: root and /dev/loop-control.
Status HostMountAvailable();

// Judges the state on the image file `image` (not yet modified by another oracle) on the host kernel;
// the kernel gets a copy made in `scratch_dir`, so the image itself is not written.
// With `after` (kernel_replay.h), its verdicts on what the kernel left go to `*after_verdicts`
// (nothing when the mount failed).
Result<Verdict> CheckMount(const std::string& image, const std::string& scratch_dir, const FsckOptions& fsck,
                           std::chrono::seconds walk_time = std::chrono::seconds(60),
                           const AfterKernel& after = nullptr, std::vector<Verdict>* after_verdicts = nullptr);

}  // namespace torn::oracles
