// Test helpers for block roles (block_roles.h), shared by ext4/block_roles_test.cc and
// tests/block_roles_corpus_test.cc: the roles of an image file, random bytes over what the roles say
// nobody reads (or over chosen blocks), and e2fsck -fn's verdict in a form two runs can be compared
// by (exit code and output, the image's path replaced).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext4/block_roles.h"

namespace torn::ext4::testing {

// ComputeBlockRoles on an image file through a plain ImageView (no overlay).
Result<BlockRoles> RolesOfImage(const std::string& image, const BlockRolesOptions& options = {});

// Writes random bytes (seeded) over every 512-byte sector of `image` that roles.metadata does not
// hold. Returns how many sectors it wrote.
Result<uint64_t> ScribbleUnread(const std::string& image, const BlockRoles& roles, uint64_t seed);

// Writes random bytes (seeded) over the given extents' blocks.
Status ScribbleBlocks(const std::string& image, uint32_t block_size, const std::vector<BlockExtent>& extents,
                      uint64_t seed);

struct FsckRun {
  int code = -1;       // exit code (-1: did not exit normally)
  std::string output;  // stdout and stderr, `image` replaced by "IMAGE"
  bool operator==(const FsckRun&) const = default;
};
// e2fsck ARGS IMAGE (ARGS e.g. {"-fn"}), 120 s limit.
Result<FsckRun> RunE2fsck(const std::vector<std::string>& args, const std::string& image);

// A copy of `from` at `to` (sparse-aware, replaces `to`).
Status CopyImage(const std::string& from, const std::string& to);

}  // namespace torn::ext4::testing
