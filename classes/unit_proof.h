// The class proofs of a window: which of its units can be fixed durable (models::FixUnits) because no
// state of a group changes its class key, whatever subset of them landed.
//
// A group is a state `rep` that keeps a set F of the window's units durable, with the other units as
// rep has them; its members are the states that differ from rep only in units of F. Let A be the
// analysis of rep (class_key.h). A unit u of F may stay fixed when, for every sector x it covers:
//   1. recovery's input: if recovery read x and x is not in the log past the committed part, every
//      candidate content of x agrees (the window's base and every unit covering x: WindowFacts);
//   2. the scan's tail: if x is in the log past the committed part, no candidate content of any block
//      there is a commit block of the transaction the scan stopped at (A.recovery.end_tid), so the
//      scan stops at that transaction in every member;
//   3. the recovered image: x is overwritten by recovery, or is not metadata of the recovered image,
//      or every candidate content of x agrees;
//   4. the ordering oracle does not read u's durability (OrderingOracle::Relevant).
// Why that is enough (docs/checker.md, "Classes"): by 1 and 2 recovery reads the same bytes in every
// member up to where the scan stops, and stops at the same transaction, so it writes the same blocks;
// the members' recovered images then differ only in sectors of F that are not metadata or agree (3),
// so the block-roles walk reads the same bytes and finds the same metadata; every part of the key is
// equal. The ordering verdict is a function of the durability of the entries 4 excludes.
//
// Candidates "agree" at x when the window's base and every unit covering x hold the same bytes there:
// then x reads the same in every state of the window, whichever of them landed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "classes/class_key.h"
#include "ext4/image_view.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::classes {

// How a unit was fixed, or why it was not (for the coverage report).
enum class UnitKind : uint8_t {
  kFree,        // not fixed
  kReplayed,    // every sector overwritten by journal recovery (an in-place write of a committed block)
  kJournalTail, // in the journal's log past the last commit (the next transaction's blocks)
  kUnread,      // in blocks nobody reads: regular-file data, unreferenced blocks
  kSame,        // the same bytes in every candidate
};
std::string_view UnitKindName(UnitKind k);

// Facts of one window shared by all its groups.
struct WindowFacts {
  struct Commit {
    uint64_t block = 0;      // file-system block of a candidate content that is a jbd2 commit block
    uint32_t sequence = 0;
  };
  size_t segment = 0;
  uint32_t block_size = 0;                               // of the file system, 0 if none was found
  std::vector<std::pair<uint64_t, uint64_t>> unit_sectors;  // per unit: [first, end) in 512-byte sectors
  ext4::SectorSet disagree;     // sectors covered by units whose candidates do not all agree
  std::vector<Commit> commits;  // commit blocks among the candidates of the journal's blocks
  std::vector<uint64_t> journal_map;  // the journal's block map the commits were looked for with
  std::vector<uint8_t> ordering;      // per unit: the ordering oracle reads its durability
};

// Builds the facts of a window from its base image (`base`: the state with every unit dropped), the
// log (the units' contents) and the journal's block map (from an analysis of any state of the window;
// empty when there is no journal). `ordering_relevant`: entries the ordering oracle reads.
Result<WindowFacts> BuildWindowFacts(const trace::Log& log, size_t segment, std::span<const models::Unit> units,
                                     ext4::ImageView& base, const std::vector<uint64_t>& journal_map,
                                     uint32_t block_size, std::span<const size_t> ordering_relevant);

struct UnitProof {
  UnitKind kind = UnitKind::kFree;
  std::string why;  // kFree: what stops it (the sector and the rule); else the rule that fixed it
};

// The proof for each unit u with try[u] set, given the analysis of the group's rep; units not tried
// come back kFree with an empty reason.
std::vector<UnitProof> ProveUnits(const WindowFacts& facts, const Analysis& rep, std::span<const uint8_t> try_units);

}  // namespace torn::classes
