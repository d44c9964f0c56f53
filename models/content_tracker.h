// ContentTracker: the content of the current crash state, sector by sector, as the base (digest.h)
// plus an overlay of the window's writes; it says which sectors changed at each move and keeps the
// state's digest. StateSpace::ForEach uses it for digests without writing anything; the materializer
// (replayer/materializer.h) uses it to write only the sectors that change.
//
// The window is the content entries [base_end, last]; a window sector is a "slot". Invariants:
//   1. Each slot's candidates are the window writes covering it, in log order; its winner is the last
//      candidate whose sector is durable, else the base.
//   2. digest() == base digest + sum over slots of (Term of the winner - Term of the base content).
//   3. Changed() lists, once each, the slots whose durability changed since the last Commit(); after
//      Commit() every slot's recorded term matches its winner (2 holds again).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "models/digest.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::models {

struct WindowWrite {
  size_t entry = 0;
  uint64_t sector = 0;     // first device sector
  uint32_t nr = 0;
  uint32_t first_slot = 0; // its sectors are slots [first_slot, first_slot + nr)
  size_t bit = 0;          // its sectors' durability bits are [bit, bit + nr)
  size_t data = 0;         // byte offset of its data in data() (keep_data only)
  bool discard = false;
};

class ContentTracker {
 public:
  explicit ContentTracker(const trace::Log& log) : log_(&log), base_(log) {}

  // Moves the base forward to content entries [0, base_end) and opens the window [base_end, last],
  // every window sector not durable. With keep_data the window's bytes stay in memory (data()).
  Status Enter(size_t base_end, size_t last, bool keep_data);
  size_t base_end() const { return base_.end(); }
  size_t last() const { return last_; }
  bool entered() const { return entered_; }

  // The window write of entry `entry`, if it is one.
  std::optional<uint32_t> WriteOf(size_t entry) const;
  // Sectors [lo, hi) of window write w become durable or not.
  void Set(uint32_t w, uint32_t lo, uint32_t hi, bool durable);
  // Every window write as `state` has it (entries past its crash point not durable).
  void SetFromState(const CrashState& state);
  // Nothing in the window durable: the image is the base.
  void Clear();

  std::span<const uint32_t> Changed() const { return changed_; }
  // Brings the digest up to date with Changed() and empties it.
  void Commit();
  uint64_t digest() const { return base_.digest() + delta_; }

  // What the materializer needs to write a slot.
  struct Winner {
    uint32_t write;
    uint32_t offset;
  };
  std::optional<Winner> WinnerOf(uint32_t slot) const;
  // The hash of what the slot holds now (after Commit) and of its base content; 0 means all zeros,
  // exactly (digest.h).
  uint64_t current_hash(uint32_t slot) const { return hash_[slot]; }
  uint64_t slot_sector(uint32_t slot) const { return slots_[slot]; }
  size_t slot_count() const { return slots_.size(); }
  const std::vector<WindowWrite>& writes() const { return writes_; }
  std::span<const std::byte> data(uint32_t w) const;

 private:
  uint64_t WinnerHash(uint32_t slot) const;

  const trace::Log* log_;
  BaseContent base_;
  bool entered_ = false;
  size_t last_ = 0;
  std::vector<WindowWrite> writes_;
  std::vector<uint64_t> slots_;          // slot -> device sector, ascending
  std::vector<uint32_t> cand_begin_;     // CSR: candidates of slot s are cand_[cand_begin_[s] ..)
  std::vector<uint32_t> cand_;           // window write indices
  std::vector<uint8_t> durable_;         // per write sector
  std::vector<uint64_t> sector_hash_;    // per write sector: hash of its content
  std::vector<uint64_t> base_hash_;      // per slot: the hash of its base content
  std::vector<uint64_t> term_;           // per slot: the term of its winner at the last Commit()
  std::vector<uint64_t> hash_;           // per slot: the hash of its winner at the last Commit()
  std::vector<uint8_t> is_changed_;      // per slot
  std::vector<uint32_t> changed_;
  std::vector<std::byte> data_;
  uint64_t delta_ = 0;
};

}  // namespace torn::models
