// Images for the mount oracle's tests, made with the real mke2fs and debugfs: small ext4 file systems
// with one known defect each.
#pragma once

#include <string>

namespace torn::oracles::testing {

// An 8 MiB ext4 (mke2fs defaults) at `path` with /dir holding `sub` and `ok` (a line each), then
// `sub`'s links count set to 0 by debugfs (its checksum recomputed): /dir names an inode that is
// deleted. Mounting does not notice; a lookup of /dir/sub does (Linux: "EXT4-fs error ... ext4_lookup
// ... deleted inode referenced: 13"), and e2fsck -fn says "Entry 'sub' in /dir (12) has
// deleted/unused inode 13". Throws std::runtime_error when a tool fails.
void MakeDeletedInodeImage(const std::string& path);

// The same file system without the defect.
void MakeCleanDirImage(const std::string& path);

}  // namespace torn::oracles::testing
