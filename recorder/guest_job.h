// The guest side of `torn record --vm`: the job the lab VM runs (lab/vm.h), as files for /job.
//
//   run.sh        sets up the logged device and runs the workload:
//                   1. dmsetup create torn-log: "0 SECTORS log-writes /dev/vda /dev/vdb" (vda: the
//                      data disk of --size, vdb: the log disk), dmsetup mknodes (no udev here);
//                   2. makes the file system on $DEV (the dm device), sends the mark "mkfs", mounts it
//                      at $MNT with --mount-opts;
//                   3. runs `sh -e /job/workload.sh` in /tmp with $DEV, $MNT, $FS and helpers on PATH;
//                   4. whatever the workload's status, unmounts what is still mounted under $MNT,
//                      detaches loop devices, unmounts $MNT and removes the target (which appends
//                      the mark "dm-log-writes-end" and writes the log's super block), then exits
//                      with the workload's status (or 120 + step when the setup failed).
//   bin/mark NAME      `dmsetup message torn-log 0 mark NAME`, and "TORN-MARK NAME" on the report channel
//   bin/manifest NAME [DIR]  sync, walk DIR (default $MNT; one file system, -xdev): "TORN-MANIFEST
//                      NAME D path" per directory and "TORN-MANIFEST NAME F size md5 path" per regular
//                      file, paths relative to DIR ("." for the root); sync again, then `mark NAME`.
//                      With DIR the syncs are `sync -f DIR` (syncfs of that file system only): the
//                      manifest of an inner file system (torn gate) says what its own sync made durable.
//   bin/promise NAME DIR FILE...  after the caller's fsync or fdatasync of each FILE (relative to DIR):
//                      "TORN-MANIFEST NAME P" (partial), an F line per FILE, `mark NAME`, END: the
//                      promise of that fsync alone, checked from the mark on (torn gate, docs/gate.md)
//   bin/fsync FILE..., bin/fdatasync FILE...   busybox's `sync [-d] FILE` (fsync(2) on each file)
//   workload.sh, config (shell assignments: FS, MKFS, MKFS_OPTS, MOUNT_OPTS)
//
// Mark names: 1 to 128 characters from [A-Za-z0-9._+:@=-] (dmsetup splits a message on blanks).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "lab/vm.h"

namespace torn::recorder {

inline constexpr const char* kTargetName = "torn-log";
inline constexpr const char* kGuestMount = "/mnt";

struct GuestJobOptions {
  std::string fs = "ext4";
  std::string mkfs;  // guest path and fixed arguments, e.g. "/usr/sbin/mke2fs -q -F -t ext4"
  std::string mkfs_opts;
  std::string mount_opts;
  std::string workload;  // the script's text
};

// run.sh and the files beside it.
std::string GuestRunScript();
std::vector<lab::GuestFile> GuestJobFiles(const GuestJobOptions& options);

// True when `name` is a valid mark name (see above).
bool ValidMarkName(std::string_view name);

}  // namespace torn::recorder
