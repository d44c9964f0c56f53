// Full replay: a zeroed image, then the log's entries in order through an end point — what xfstests'
// replay-log does, byte for byte. This is the reference the crash-state materializer is tested against.
//
// A crash state by hand: `drop` skips entries and `torn` applies only some sectors of an entry, so
// that replaying through a state's crash point with its dropped entries and torn writes gives the
// image torn check judged (checker/state_image.h builds it the same way: entries [0, crash point] in
// log order, minus the dropped ones, torn entries only their landed sectors). Lists on the command
// line: "98,99,120-125" (ParseIndexList); a torn write "41:0-3,7" (entry 41, sectors 0..3 and 7
// landed; ParseTornWrite).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::replay {

struct ReplayOptions {
  std::optional<std::string> to_mark;  // through the first mark of this name
  std::optional<uint64_t> to_entry;    // through this entry index
  uint64_t device_bytes = 0;           // 0: cover every write, and the ext4 file system if any
  bool force = false;                  // allow a block device that is not a loop device
  std::vector<size_t> drop;            // entries not applied (each at or before the end point)
  std::vector<models::TornWrite> torn; // entries of which only these sectors are applied
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

// "98,99,120-125" -> {98, 99, 120, ..., 125}, sorted, without repeats. Each comma-separated token is
// an index or an ascending range A-B, none past `last`; errors name `what` (the option) and the token.
Result<std::vector<size_t>> ParseIndexList(std::string_view list, size_t last, std::string_view what);

// "ENTRY:SECTORS" (SECTORS as ParseIndexList) -> the torn write of that entry: the entry must carry
// data and be at or before `end`; the sectors (0-based within the entry, in the log's sector units)
// must lie inside it.
Result<models::TornWrite> ParseTornWrite(const trace::Log& log, std::string_view spec, size_t end);

Result<ReplayResult> ReplayToImage(const trace::Log& log, const std::string& out_path,
                                   const ReplayOptions& options);

}  // namespace torn::replay
