// The segmenter: from the dependency graph's windows and the selected crash points to segments of
// states, each counted exactly, and the budget split into a strategy per segment.
//
// For a window with barrier b (durable with all before it) and the selected crash points C in
// [b, next barrier), let c = max C. Under a subsets rule the segment's states are base(b) ∪ S for every
// subset S of the window's units logged up to c: 2^units. Under `prefix` they are base(b) plus the first
// k members, for each distinct k that some point of C leaves. States of two segments coincide only
// when the base of a segment equals the largest state of the previous selected one (no content logged
// between that segment's c and this barrier, e.g. an empty flush); that base is counted once, in the
// earlier segment (`skip_base`). Segments left with no state are not listed.
//
// reorder:K: the window of barrier j starts at barrier j-K (b' below), so it overlaps the previous
// selected segment's (base b'_p, last point c_p). A state base(b') ∪ S is also one of that segment's
// exactly when no content lies in (c_p, b'] and S holds only units logged up to c_p (base(b'_p) ⊆
// base(b') and everything it adds is logged by c_p); a segment before that one holds it only if that
// one does (its base is older and its c earlier). So with b' <= c_p the states shared are those
// dropping every unit past the first `shared` (the units logged up to c_p): 2^shared of them, counted
// in the earlier segment; with b' > c_p it is the base alone, as above (shared = 0).
//
// Budget (SpaceOptions::max_states over the whole trace): segments are taken from the fewest states to
// the most; each gets an equal share of what is left; a segment that fits its share is exhaustive, the
// others are bounded (walker.h describes the bounded order).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "models/model.h"
#include "models/rule.h"
#include "trace/log.h"

namespace torn::models {

struct SegmentPlan {
  Segment info;
  WindowKind kind = WindowKind::kSubsets;
  size_t first_point = 0;          // earliest selected crash point in the segment
  std::vector<size_t> points;      // the selected crash points of the segment, ascending
  bool skip_base = false;          // the states keeping no unit past the first `shared` (2^shared,
  uint32_t shared = 0;             // the base alone when 0) belong to the previous segment
  std::vector<Unit> units;         // in log order
  std::vector<uint8_t> fixed;      // per unit, 1 when the reduction fixed it durable (empty: none)
  // Units `x` invisible whenever unit `y` is durable, as (x, y) unit indices (overwrites).
  std::vector<std::pair<uint32_t, uint32_t>> shadows;
  // kPrefixes: for each state, the units it keeps and its first and last crash points, ascending.
  struct Prefix {
    uint32_t keep = 0;
    size_t first_point = 0, last_point = 0;
  };
  std::vector<Prefix> prefixes;
  // The strategy: exhaustive, or bounded with `k` (all states keeping or dropping at most k units;
  // -1 for none) plus `random` seeded samples (prefix: `random` evenly spaced prefixes).
  bool exhaustive = true;
  int k = -1;
  uint64_t random = 0;
};

struct Plan {
  std::vector<SegmentPlan> segments;
  Coverage coverage;
};

Result<Plan> PlanStates(const trace::Log& log, const SpaceOptions& options);

// The states of the bounded strategy with parameter k over n units: those keeping at most k units plus
// those dropping at most k, each once; without those keeping no unit past the first `shared` when
// `skip_base` (the empty one alone for shared = 0). Saturates at 2^64-1.
uint64_t NeighbourhoodSize(uint64_t n, int k, bool skip_base, uint64_t shared = 0);

}  // namespace torn::models
