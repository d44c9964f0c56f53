// The outer file system of the gate (`torn gate --outer ext4|xfs|btrfs`) and its oracle for xfs and
// btrfs. The rule: a lower crash state passes the outer level when the outer file system, recovered the
// way its own kernel code recovers it, is clean for its own checker, and the backing file can be read
// out of it.
//
//   ext4   gate/check.cc as before: e2fsck journal replay, e2fsck -fn, CopyOut with libext2fs (no
//          kernel), and outer classes (classes/ know ext4 only).
//   xfs    a sparse copy of the state's image on a loop device torn attaches itself, mounted
//          (nouuid: every state has the same UUID; the kernel's log recovery runs), the backing file
//          copied out, unmounted, then `xfs_repair -n -f` on the recovered copy. A failed mount is a
//          violation (oracle mount) with the kernel's lines about that loop device; xfs_repair is then
//          not run (the log is still dirty, and the verdict is decided).
//   btrfs  `btrfs check --readonly` on the state's image (no log replay needed: btrfs's log tree only
//          holds fsyncs since the last commit, which is consistent by itself), then a sparse copy
//          mounted (the kernel replays the log tree) to copy the backing file out. Mounts of btrfs
//          images are serialized in this process: every state has the same fsid.
//
// Without outer classes each lower state is judged by itself (its key: the image's digest and its data
// rules). The inner file system is ext4 whatever the outer one is: the inner level is unchanged.
//
// Mounting a crash state needs root and /dev/loop-control, and happens on this machine's kernel (the
// stack's own legal crash states; the mount oracle of torn check stays in the lab VM by default).
// Safety: the loop device, the mount, the copy and the mount point are RAII objects (base/), released
// on every path, errors and interrupts included; nothing is written to a device torn did not attach.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "oracles/fsck.h"
#include "oracles/verdict.h"

namespace torn::gate {

enum class OuterFs { kExt4, kXfs, kBtrfs };

Result<OuterFs> ParseOuterFs(std::string_view s);  // "ext4", "xfs", "btrfs"
std::string_view OuterFsName(OuterFs fs);
// The lower device's default size for this outer file system: mkfs.xfs (xfsprogs 5.19+) refuses file
// systems of 300 MB or less, mkfs.btrfs below about 110 MiB.
uint64_t DefaultDeviceBytes(OuterFs fs);
// The outer mount options that make the outer file system send no flushes (--inject outer-nobarrier),
// or BadInput when it has none (xfs removed nobarrier in Linux 4.19).
Result<std::string> NoBarrierMountOptions(OuterFs fs);

struct OuterVerdicts {
  std::vector<oracles::Verdict> failed;  // the outer oracles that failed (fsck, mount, data)
  bool extracted = false;                // the backing file was copied to `backing_out`
};

struct OuterFsOptions {
  std::string scratch_dir = "/dev/shm";  // where the copy that the kernel recovers lives
  std::chrono::milliseconds timeout{60000};  // per checker run (xfs_repair, btrfs check)
};

// Judges the xfs or btrfs image `image` (not written) at the outer level and copies the file
// `backing` (relative to its root) to `backing_out` when it can be read. The Status is an error only
// when torn cannot do its part (no root, a tool missing, the scratch directory full, interrupted).
Result<OuterVerdicts> JudgeOuterFs(OuterFs fs, const std::string& image, const std::string& backing,
                                   const std::string& backing_out, const OuterFsOptions& options);

}  // namespace torn::gate
