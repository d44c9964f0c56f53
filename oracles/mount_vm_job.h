// The guest side of the mount oracle in the lab VM (oracles/mount_vm.h): the job that mounts the
// images packed on /dev/vda, and the parser of what it writes on the report channel.
//
// Files for /job: run.sh (below), images ("I OFFSET BYTES" per line, I counting from 0 in this boot),
// config (LIMIT seconds per image; WALK 1 or 0; PANIC_AT / HANG_AT, tests only).
//
// The walk (WALK=1): once mounted, the job walks the tree before the unmount — readdir and lstat of
// every entry (busybox find), read of every regular file (cat) and of every symlink's target (ls -l) —
// so that errors the kernel only finds when an entry is looked up or read surface (ext4_lookup's
// "deleted inode referenced", ext4_iget's "bad extent", a directory block's checksum). Which errors it
// can raise depends on metadata only: data bytes are opaque to ext4's lookup and read paths
// (docs/checker.md, "Classes"). It runs under the image's LIMIT like the mount.
//
// Report lines, per image I, in this order (a trailing "\r" from the guest's tty is dropped):
//   TORN-MOUNT-BEGIN I                   the job is about to attach and mount image I
//   TORN-MOUNT-SETUP I TEXT              losetup failed (attach or detach); the job stops (status 3)
//   TORN-MOUNT-ERR I TEXT                a line mount printed on stderr
//   TORN-MOUNT-WALK-ERR I TEXT           a line the walk printed on stderr (find, cat, ls)
//   TORN-MOUNT-WALKED I ENTRIES          the walk is over: the entries find listed, the root included
//   TORN-UMOUNT-ERR I TEXT               a line umount printed on stderr
//   TORN-MOUNT-KMSG I TEXT               a kernel log line from attach to detach (dmesg)
//   TORN-MOUNT-HUNG I                    the watchdog: no END after LIMIT s; the guest powers off
//   TORN-MOUNT-END I MOUNT_RC UMOUNT_RC  done, what the kernel wrote is synced; UMOUNT_RC -1: not mounted
// Rules: I is below the number of images and BEGINs come in order 0, 1, 2...; an END without its
// BEGIN, a line about an image not begun, or a malformed line is an error naming the line. Other lines
// (the lab's TORN-EXIT) are ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lab/vm.h"

namespace torn::oracles {

struct PackedImage {
  uint64_t offset = 0;  // in the pack (/dev/vda), a multiple of 512
  uint64_t bytes = 0;   // a multiple of 512
};

struct MountJobConfig {
  std::chrono::seconds image_timeout{60};
  int panic_at = -1, hang_at = -1;  // tests only
  bool walk = true;                 // walk the mounted tree before the unmount (above)
};

std::string MountJobScript();
std::vector<lab::GuestFile> MountJobFiles(std::span<const PackedImage> images, const MountJobConfig& c);

struct ImageReport {
  bool began = false, ended = false, hung = false;
  int mount_rc = -1, umount_rc = -1;
  int64_t walked = -1;  // entries the walk listed; -1: no walk (not mounted, or WALK=0)
  std::vector<std::string> setup_errors, mount_errors, walk_errors, umount_errors, kernel;
};

// One ImageReport per image of the boot (`images` of them).
Result<std::vector<ImageReport>> ParseMountReport(std::string_view report, size_t images);

// The kernel's mount options, as the guest passes them to mount -o.
inline constexpr const char* kVmMountOptions = "errors=remount-ro,nodev,nosuid,noexec,noatime";

}  // namespace torn::oracles
