// The mount oracle in the lab VM (DESIGN.md: mounting a corrupt image can crash the kernel that
// mounts it, so the default is a guest kernel, never the host's). One boot judges many images.
//
// How, per boot (lab/vm.h runs the guest):
//   1. The batch's images are copied, sparsely (SEEK_DATA/SEEK_HOLE + copy_file_range), into ONE pack
//      file at 1 MiB-aligned offsets; the pack is the guest's only disk (/dev/vda). One disk, not one
//      per image: virtio-blk disks each take a PCI slot (about 28 free), a pack has no such limit.
//   2. The guest job (mount_vm_job.h) walks the images in order. For image i it writes
//      "TORN-MOUNT-BEGIN i" on the report channel, attaches the region with util-linux's
//      `losetup -o OFF --sizelimit SIZE` (busybox's losetup has no --sizelimit), clears the kernel log,
//      mounts it -t ext4 -o errors=remount-ro,nodev,nosuid,noexec,noatime (the kernel's journal
//      replay), walks the tree (readdir and lstat of every entry, read of every file and symlink, so
//      that lookup-time errors surface; `walk`), unmounts, detaches, syncs (so a later panic cannot
//      lose what the kernel wrote), sends the kernel log and the complaints of mount, the walk and
//      umount, and ends with "TORN-MOUNT-END i MOUNT_RC UMOUNT_RC".
//      A watchdog in the guest powers the machine off after `image_timeout` and says
//      "TORN-MOUNT-HUNG i" first; the guest sets softlockup_panic so a locked CPU panics.
//   3. On the host, per image that ended, the first that applies is the verdict's detail: a failed
//      mount (mount's message and the kernel's first EXT4-fs/JBD2 line; e2fsck is not run, as on the
//      host path), a kernel "EXT4-fs error" line (at mount, during the walk or at umount), an error
//      the walk met (find, cat or ls on stderr), a failed umount, else `e2fsck -fn` (oracles/fsck.h,
//      journal replay off) on the image's region copied out of the pack as the kernel left it.
//      e2fsck runs on the HOST, after the guest is gone, not in the guest: at native speed rather than
//      under TCG emulation (measured: 0.03 s per image on the host), with the same binary, options, time
//      limit and exit decoding as the fsck oracle, and a hung e2fsck cannot stall the boot; the kernel
//      under test is the guest's, e2fsck only judges what it left. An image's `after` hook
//      (kernel_replay.h: fsck and data after the kernel's replay) runs on that copy too.
//   4. The image that BEGAN but did not END is the one the guest died on: its verdict is ok=false
//      with "guest kernel panicked mounting this image (Kernel panic - ...)" / "guest kernel hung
//      mounting this image" / "the lab VM stopped mounting this image" as the one-line detail, and the
//      console's tail (loglevel=4: the kernel's errors, oopses and panics) in the output. The images
//      after it go to a fresh boot (a fresh pack built from the untouched originals). A guest that
//      dies between two images (a late panic) fails the image mounted last. Besides the guest's
//      watchdog, the host stops a boot after boot_timeout + image_timeout + max(10 s, image_timeout/6)
//      per image.
// The images named by MountImage are never modified.
//
// Errors (a Status, not a verdict): no qemu or kernel, an image that cannot be read, a guest that
// could not start the job or attach an image (naming the image and the step), an interrupt.
// Temporary files (the pack, the per-image copies for e2fsck) live in `work_dir` (/dev/shm when it
// exists) and are owned by RAII: nothing is left behind, also on Ctrl-C (base/interrupt.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "oracles/fsck.h"
#include "oracles/kernel_replay.h"
#include "oracles/verdict.h"
#include "lab/vm.h"

namespace torn::oracles {

struct VmMountOptions {
  std::string kernel_image;  // empty: Debian's kernel from the cache (lab/kernel.h), as torn record
  std::string modules_dir;   // its lib/modules/<release>; empty: found beside it
  lab::Accel accel = lab::Accel::kAuto;
  std::chrono::seconds image_timeout{60};  // per image, mount + umount in the guest
  std::chrono::seconds boot_timeout{180};  // boot to the job's start (TCG: about 8 s)
  bool walk = true;  // walk each mounted tree before the unmount (mount_vm_job.h); off: mount and umount
  FsckOptions fsck;  // for e2fsck -fn on the host (FullCheck: journal_replay and undo_file unused)
  size_t max_images_per_boot = 100;
  uint64_t max_pack_data_bytes = 2ull << 30;  // allocated bytes of one boot's images together
  std::string work_dir;                       // empty: /dev/shm, else $TMPDIR
  std::function<void(std::string_view)> on_progress;  // one line about what takes long
  std::function<void(std::string_view)> on_console;   // the guest's console as it arrives
  // Tests only: the guest panics (sysrq c) / hangs (sleeps) where it would mount image N of a call.
  int test_panic_at = -1, test_hang_at = -1;
};

struct MountImage {
  std::string path;  // a crash state's image file as built (BEFORE e2fsck touched it); not modified
  AfterKernel after;  // optional: judges the image as the guest kernel left it (kernel_replay.h)
};

struct VmMountResult {
  std::vector<Verdict> verdicts;  // one Verdict{Oracle::kMount} per image, in order
  // Per image, in order: its `after` hook's verdicts (empty without a hook or when nothing mounted).
  std::vector<std::vector<Verdict>> after;
  unsigned boots = 0;
  double boot_seconds = 0;   // summed over boots: qemu start to the job's start
  double guest_seconds = 0;  // summed over boots: qemu start to exit
  double seconds = 0;        // the whole call
  std::string accel;         // "tcg" or "kvm"
};

// Boots the lab VM as few times as it takes and judges every image with the guest kernel.
Result<VmMountResult> MountInVm(std::span<const MountImage> images, const VmMountOptions& options);

// Ok when the VM path can run: qemu installed, the kernel obtainable (fetched into the cache the first
// time, as torn record does), the initramfs buildable (busybox-static, losetup, the modules).
Status MountVmAvailable(const VmMountOptions& options);

}  // namespace torn::oracles
