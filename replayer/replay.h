// Full replay: a zeroed image, then the log's entries in order through an end point — what xfstests'
// replay-log does, byte for byte. This is the reference the crash-state materializer is tested against.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "trace/log.h"

namespace torn::replay {

struct ReplayOptions {
  std::optional<std::string> to_mark;  // through the first mark of this name
  std::optional<uint64_t> to_entry;    // through this entry index
  uint64_t device_bytes = 0;           // 0: cover every write, and the ext4 file system if any
  bool force = false;                  // allow a block device that is not a loop device
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct ReplayResult {
  size_t last_entry = 0;       // index of the last entry applied
  size_t entries_applied = 0;  // entries that changed content
  uint64_t bytes_applied = 0;  // data bytes written (discards excluded)
  uint64_t image_bytes = 0;
  double seconds = 0;
};

// The index of the last entry to apply, from --to-mark / --to-entry (the last entry without either).
Result<size_t> ResolveEndPoint(const trace::Log& log, const ReplayOptions& options);

Result<ReplayResult> ReplayToImage(const trace::Log& log, const std::string& out_path,
                                   const ReplayOptions& options);

}  // namespace torn::replay
