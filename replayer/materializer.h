// The crash-state materializer: puts one crash state after another on an image (a regular file, a
// file on tmpfs, or a loop device), writing only what differs from the state before.
//
// How: the image holds the base of the current window (content entries [0, base_end), applied in log
// order with apply.h) plus the window's durable writes. The bytes the base has under the window are
// saved in memory when the window opens. Moving to a state of the same window changes the durability
// of a few writes (or sectors); for each sector they cover, the winner is recomputed (the last durable
// window write covering it in log order, else the base) and only those sectors are written. Moving to
// a later window puts the saved base bytes back, applies the entries between the two bases, and opens
// the new window: the base is never replayed from entry 0, except when a state's base lies before the
// current one (the image is then rebuilt from a zeroed one; enumeration order never asks for that).
//
// Invariants after each MoveTo(s): 1. the image's bytes are those of BuildFromScratch(s); 2. digest()
// is models::ImageDigest of the image (tests check both on random states of every model). Memory: the
// window's data and the saved base bytes (bounded by the log and the device), never the states.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "models/content_tracker.h"
#include "models/model.h"
#include "replayer/apply.h"
#include "trace/log.h"

namespace torn::replay {

struct MaterializerOptions {
  uint64_t device_bytes = 0;  // image size; 0: the log's highest byte touched (a device: its size)
  bool force = false;         // allow a block device that is not a loop device
};

struct MaterializerStats {
  uint64_t states = 0;         // MoveTo calls
  uint64_t windows = 0;        // windows opened
  uint64_t rebuilds = 0;       // images rebuilt from zero (a base before the current one)
  uint64_t sectors_written = 0;
  uint64_t sectors_skipped = 0;  // changed slots whose bytes stay the same (same source, or zeros)
};

class Materializer {
 public:
  // `path`: a regular file (created or truncated to the image size), or a loop device (zeroed). The
  // log must outlive the materializer.
  static Result<Materializer> Open(const trace::Log& log, const std::string& path,
                                   const MaterializerOptions& options = {});

  // Puts `state` on the image. `segment`, when given (StateSpace::segments()[state.segment]), opens
  // the whole segment's window at once, so the segment's later states need no new window.
  Status MoveTo(const models::CrashState& state, const models::Segment* segment = nullptr);
  // Forgets what the image holds, for when something else wrote to it and cannot say what: the next
  // MoveTo rebuilds the image from zero.
  void Invalidate() { invalid_ = true; }
  // The content digest of the image now (models/digest.h), kept up to date by MoveTo.
  uint64_t digest() const { return content_->digest(); }

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  uint64_t bytes() const { return target_.bytes; }
  const MaterializerStats& stats() const { return stats_; }

  Materializer(Materializer&&) noexcept = default;
  Materializer& operator=(Materializer&&) noexcept = default;

 private:
  Materializer() = default;
  Status OpenWindow(size_t base_end, size_t last);
  Status WriteChanged();  // writes the winners of the tracker's changed slots, then commits
  Status Rebuild();       // a zeroed image and a fresh tracker

  const trace::Log* log_ = nullptr;
  std::string path_;
  UniqueFd fd_;
  Target target_;
  std::unique_ptr<models::ContentTracker> content_;
  std::vector<std::byte> saved_;   // per window slot: the base's bytes
  std::vector<int64_t> source_;    // per window slot: what the image holds there (kBaseSource or
                                   // a window write's first durability bit + offset)
  std::vector<std::byte> scratch_;
  MaterializerStats stats_;
  bool invalid_ = false;
};

// The reference: a zeroed image of `device_bytes` (0: the log's highest byte touched) and the state's
// durable entries applied in log order (torn writes: only their landed sectors). No incrementality.
Status BuildFromScratch(const trace::Log& log, const models::CrashState& state, const std::string& path,
                        uint64_t device_bytes = 0, bool force = false);

}  // namespace torn::replay
