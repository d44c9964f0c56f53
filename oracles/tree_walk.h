// The walk of a mounted file system, for the mount oracle on this machine (--host-mount; the lab VM's
// job does the same with busybox, mount_vm_job.h). A kernel reports some corruption only when an entry
// is looked up or read: ext4_lookup's "deleted inode referenced" (a directory entry naming an inode
// whose links count is 0), ext4_iget's checks of an inode, a directory block's checksum, an extent
// tree that points outside the file system. Mounting and unmounting never touch them; the walk does.
//
// What it does, depth first from `root`, never leaving root's file system (st_dev) nor following
// symlinks:
//   1. readdir of every directory (getdents: the kernel reads and checks every directory block);
//   2. lstat of every entry (fstatat AT_SYMLINK_NOFOLLOW: ext4_lookup, then ext4_iget of the inode);
//   3. read of every regular file to its end (the extent tree or block map, then the data blocks) and
//      readlink of every symlink (a slow symlink's block).
// Every call that fails is one line "PATH: what: strerror" (PATH relative to root, "." for root
// itself), at most `max_errors` of them. The data read is discarded: its bytes cannot change what the
// kernel reports (docs/checker.md, "Classes"), only the metadata that says where they are can.
//
// Bounds: `max_entries` entries and a `deadline`; a walk cut short by either says so (`cut`), which
// the caller reports like an error (a tree that large or that slow on a 64 MiB image is itself odd).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace torn::oracles {

struct WalkLimits {
  uint64_t max_entries = 1000000;
  size_t max_errors = 20;
  std::chrono::steady_clock::duration time = std::chrono::seconds(60);
};

struct WalkResult {
  uint64_t entries = 0;             // entries seen, root included
  uint64_t files_read = 0, bytes_read = 0;
  std::vector<std::string> errors;  // "PATH: what: strerror", in walk order
  uint64_t more_errors = 0;         // errors past max_errors, not listed
  std::string cut;                  // why the walk stopped early; empty when it finished
};

WalkResult WalkTree(const std::string& root, const WalkLimits& limits = {});

}  // namespace torn::oracles
