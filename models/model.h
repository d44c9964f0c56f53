// Models: which crash states a trace allows. A model turns a Log into segments of crash states, counts
// them without listing them, and enumerates them within a budget. This header is the contract between
// models/ (which implements it), replayer/ (which materializes states) and checker/ (which judges them).
//
// Vocabulary
//   content entry  an entry that changes the device: a write with data, or a discard.
//   barrier        for `fua-barrier`: a flush entry or a FUA write; for `epoch`: a flush entry.
//   segment        the content entries between one barrier and the next; a crash inside a segment keeps
//                  everything up to and including the barrier, and any subset of the segment's entries.
//                  Under `reorder:K` the segment of a barrier starts K barriers earlier (the K barriers
//                  between are not honoured), so consecutive segments overlap.
//   crash point    the last entry logged before the power cut.
//   state          a durable set of entries (the image follows from it). Several crash points may leave
//                  the same durable set; it is one state, listed once, reachable at every crash point in
//                  [first_crash_point, crash_point] (docs/models.md, "Counting").
//
// A CrashState is the durable set of entries: all content entries before `base_end`, plus those in
// [base_end, crash_point] that are not in `dropped`. Durable entries are applied in log order (a later
// write to the same sector wins). For the torn-sector model, `torn` lists entries that landed only in
// part, with the sectors that did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>

#include "base/status.h"
#include "trace/log.h"

namespace torn::models {

using BigCount = boost::multiprecision::cpp_int;  // 2^n for a segment of n writes overflows quickly

// Segment::barrier of the first segment when no barrier precedes it (the window starts at entry 0).
inline constexpr size_t kNoEntry = static_cast<size_t>(-1);

enum class ModelKind { kPrefix, kEpoch, kFuaBarrier, kTornSector, kReorder };
inline constexpr ModelKind kDefaultModel = ModelKind::kFuaBarrier;
// "prefix", "epoch", "fua-barrier", "torn-sector"; an error lists the names. "reorder:K" is
// ParseModelChoice's (it has a parameter).
Result<ModelKind> ParseModel(std::string_view name);
std::string_view ModelName(ModelKind kind);

// A model with its parameter: `reorder:K` (K >= 1, at most kMaxReorder) is kReorder with reorder = K,
// the number of barriers a window may extend across. It is beyond the block layer's contract: its
// states are those of a lower layer that does not honour the last K flushes or FUA writes.
inline constexpr uint32_t kMaxReorder = 64;
struct ModelChoice {
  ModelKind kind = kDefaultModel;
  uint32_t reorder = 0;
};
Result<ModelChoice> ParseModelChoice(std::string_view name);
// "reorder:K" for kReorder, ModelName(kind) otherwise.
std::string ModelLabel(ModelKind kind, uint32_t reorder);
// Whether the model's states can be out of the block layer's contract (epoch, reorder:K): a violation
// found under it is "possible under a weaker lower layer", not a file-system bug.
bool BeyondContract(ModelKind kind);

// The mark torn record inserts after mkfs. Crash states inside mkfs are not interesting (mkfs is not
// crash-safe and does not claim to be) and flood the output: when the user names no --from-mark and the
// trace has this mark, `torn check` and `torn states` start at it (and say so).
inline constexpr std::string_view kDefaultFromMark = "mkfs";

// Which crash points to keep (torn check --points): every entry, or only flush entries, FUA writes or
// marks. `prefix --points fua` is what xfstests' generic/482 checks.
enum class CrashPoints { kAll, kFlush, kFua, kMark };
Result<CrashPoints> ParseCrashPoints(std::string_view name);

struct TornWrite {
  size_t entry = 0;
  std::vector<uint32_t> sectors;  // logical sectors of the entry (0-based within it) that landed
};

struct CrashState {
  uint64_t id = 0;          // position in the enumeration: deterministic for (trace, model, options)
  size_t segment = 0;
  size_t crash_point = 0;        // the latest crash point (of those selected) that leaves this state
  size_t first_crash_point = 0;  // the earliest one; the state is reachable at every point in between
  size_t base_end = 0;      // content entries [0, base_end) are durable
  std::vector<size_t> dropped;  // content entries in [base_end, crash_point] that are not durable
  std::vector<TornWrite> torn;  // torn-sector model only
  uint64_t digest = 0;      // content digest of the state's image when the enumerator computed it
  // Certainly the same image as another state of the same segment that is also generated: it keeps a
  // write together with a later one that overwrites all of it (the dependency graph's overwrite
  // edges); dropping the first gives the same bytes. Set only in exhaustive segments. A checker may
  // skip such a state and give it that state's verdict.
  bool duplicate = false;
  // Reduction (FixUnits below): this state keeps `fixed` units of its window durable because they
  // were proven not to change its verdicts; it stands for the 2^fixed states that differ from it only
  // in those units, less those of the previous segment when `covers_previous`: the states dropping
  // every unit logged after that segment's last crash point (Segment::shared), 2^previous_fixed of
  // them, `previous_fixed` being how many of the fixed units were logged before it (0 but under
  // reorder:K: otherwise the one state counted there is the one with all of the window's units dropped).
  uint32_t fixed = 0;
  bool covers_previous = false;
  uint32_t previous_fixed = 0;

  bool durable(size_t entry) const;  // whole-entry durability (a torn entry counts as not durable)
  BigCount covers() const;           // the states this one stands for: 1 without a reduction
};

// Whether `state` leaves exactly the content of the log replayed through `entry` (a mark, say): the
// state is reachable at `entry` and drops nothing at or before it.
bool IsPrefixThrough(const CrashState& state, size_t entry);

// What may be durable or not in a window: sectors [offset, offset + count) of a content entry (the
// whole entry unless the model tears writes into sectors).
struct Unit {
  size_t entry = 0;
  uint32_t offset = 0;
  uint32_t count = 0;
};

struct Segment {
  size_t index = 0;
  size_t barrier = 0;      // the entry every state of the segment keeps (last one before the window)
  size_t first = 0, last = 0;  // the window of entries after the barrier, inclusive; `last` is the
                               // segment's latest selected crash point
  size_t base_end = 0;         // barrier + 1 (0 for the first segment without a barrier)
  uint64_t content_entries = 0;  // content entries in the window
  uint64_t units = 0;            // what may be durable or not: writes, or sectors for torn-sector
  BigCount possible = 0;   // states the model allows here, exact
  uint64_t generated = 0;  // states the enumeration will produce here within the budget
  std::string strategy;    // "exhaustive", or the bounded strategy's name with its parameters
  uint64_t duplicates = 0; // generated states flagged CrashState::duplicate
  // Reduction (SpaceOptions::fix_units): units fixed durable in every generated state; the states the
  // enumeration draws from (2^(units - fixed), less the previous segment's); the states the generated
  // ones stand for (== possible when the segment is exhaustive).
  uint64_t fixed = 0;
  BigCount groups = 0;
  BigCount covered = 0;
  // States shared with the previous segment, counted there: with `shares_previous`, those that drop
  // every unit past the first `shared` (2^shared of them; shared is 0 but for reorder:K, where the
  // previous segment's window overlaps this one).
  bool shares_previous = false;
  uint64_t shared = 0;
};

struct Coverage {
  BigCount possible = 0;   // exact, summed over segments
  uint64_t generated = 0;
  BigCount covered = 0;    // states the generated ones stand for (generated without a reduction)
  uint64_t duplicates = 0; // generated states certainly identical to another generated one
  std::string strategy;    // overall description, e.g. "exhaustive" or "bounded: k=1 + 1000 random (seed 7)"
  uint64_t seed = 0;
};

// A reduction: the units of a window that provably do not change the verdicts of a state (classes/
// proves it, window by window). Called once per subsets segment, in log order, before the budget is
// planned, with the segment (its `units` and bounds filled) and its units in log order; returns one
// flag per unit, 1 for a unit every generated state keeps durable. Prefix segments are not offered.
using FixUnits = std::function<Result<std::vector<uint8_t>>(const Segment&, std::span<const Unit>)>;

struct SpaceOptions {
  ModelKind model = kDefaultModel;
  uint32_t reorder = 0;              // kReorder: K, the barriers a window may extend across
  CrashPoints points = CrashPoints::kAll;
  // Only crash points at or after this entry: the power cut came after it was logged (--from-mark).
  std::optional<size_t> from_entry;
  uint64_t max_states = 100000;      // budget for generated states over the whole trace
  uint64_t seed = 1;
  bool digests = true;               // ForEach fills CrashState::digest (reads the log's data once)
  FixUnits fix_units;                // a reduction; empty: none
};

// The state space of one trace under one model. Cheap to build (one pass over the entries); counting
// needs no enumeration. Enumeration visits states in an order where consecutive states differ by few
// entries, so a materializer can move from one to the next incrementally.
class StateSpace {
 public:
  static Result<StateSpace> Build(const trace::Log& log, const SpaceOptions& options);

  const std::vector<Segment>& segments() const;
  Coverage coverage() const;
  // A segment's units in log order, and which of them the reduction fixed (empty when none).
  std::span<const Unit> units(size_t segment) const;
  const std::vector<uint8_t>& fixed(size_t segment) const;
  // Visits every generated state in order; stops early and returns the visitor's error if any.
  Status ForEach(const std::function<Status(const CrashState&)>& visit) const;

  ~StateSpace();
  StateSpace(StateSpace&&) noexcept;
  StateSpace& operator=(StateSpace&&) noexcept;

 private:
  StateSpace();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace torn::models
