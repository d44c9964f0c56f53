// Applying log entries to an image: the one place that turns an entry into bytes on a target, used by
// the full replay and by the crash-state materializer alike. The rule: a write puts its data at
// sector*S; a discard zeroes its range (what xfstests' replay-log does on a target without discard);
// flushes and marks change nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "trace/log.h"

namespace torn::replay {

// An image being written: a regular file or a block device, opened read-write.
struct Target {
  int fd = -1;
  bool block_device = false;
  uint64_t bytes = 0;  // its size; entries past it are refused
};

// Zeroes [offset, offset+len) on the target (a hole in a file, BLKZEROOUT on a device).
Status ZeroRange(const Target& t, uint64_t offset, uint64_t len);

// Applies entry i of the log to the target. `scratch` is reused between calls to avoid allocations.
Status ApplyEntry(const trace::Log& log, size_t i, const Target& t, std::vector<std::byte>& scratch);

// Applies sectors [first, first + count) of entry i (in the log's sector units, 0-based within the
// entry): a torn write, or part of a write that the crash-state materializer puts back. `data` holds
// those sectors' bytes as ReadData gives them; it is ignored for a discard, which zeroes the range.
Status ApplyEntryPart(const trace::Log& log, size_t i, const Target& t, uint64_t first, uint64_t count,
                      std::span<const std::byte> data);

// The size of the ext4 file system whose super block is on the target, if there is one.
std::optional<uint64_t> Ext4Bytes(int fd);

}  // namespace torn::replay
