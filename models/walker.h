// The order in which one segment's states are visited. Consecutive states differ by few units, so the
// digest (digest.h) and the materializer move from one to the next by toggling only those.
//
// Invariants, checked after every step by AssertWalker() in debug builds (and by the tests through
// InvariantsHold()):
//   1. bits() holds one byte per unit of the segment, 1 when the unit is durable in the current state.
//   2. toggled() lists, without repeats, exactly the units whose byte changed since the previous state
//      (for the first state: the units set in it, all bytes starting at 0).
//   3. At most the plan's `generated` states are produced, and exactly that many when the walk ends.
//   4. Exhaustive subsets: the binary-reflected Gray code; state i is gray(i) = i ^ (i >> 1) over the
//      units (unit 0 the lowest bit), i from 0 (2^shared with skip_base) to 2^n - 1: each step toggles
//      one unit. gray(i) keeps no unit past the first `shared` exactly when i < 2^shared.
//   5. Prefixes: units [0, keep) are set and the rest clear, `keep` growing from state to state.
//   6. With skip_base no state keeping no unit past the first `shared` (the previous segment's; the
//      empty state when shared is 0) is produced.
//   7. Bounded subsets, in three phases, no state twice: every state keeping j <= k units (j ascending,
//      combinations in lexicographic order); every state dropping j <= k units that phase one did not
//      produce; then `random` states keeping more than k and fewer than n - k units, drawn in the order
//      of a seeded bijection of [0, 2^n) for n <= 64 (distinct by construction), or from a seeded
//      mt19937_64 for n > 64, where two draws repeat with probability 2^-n per pair (below 2^-64).
//   8. Deterministic: the same plan and seed give the same states in the same order.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "models/plan.h"

namespace torn::models {

class Walker {
 public:
  Walker(const SegmentPlan& plan, uint64_t seed);

  // Moves to the next state; false when the walk is over.
  bool Next();
  const std::vector<uint8_t>& bits() const { return bits_; }
  const std::vector<uint32_t>& toggled() const { return toggled_; }
  // For prefixes: the index in plan.prefixes of the current state.
  size_t prefix_index() const { return prefix_index_; }
  uint64_t produced() const { return produced_; }
  // Invariants 1-6 for the current state.
  bool InvariantsHold() const;

 private:
  bool Skipped() const;  // the current state is the previous segment's (invariant 6)
  enum class Phase { kStart, kGray, kPrefix, kKeep, kDrop, kRandom, kDone };
  void Toggle(uint32_t unit);
  void SetAll(const std::vector<uint8_t>& target);
  bool NextCombination();  // combo_ to the next j-subset of [0, n); false after the last
  bool StartCombinations(bool drop, int j);
  bool NextBounded();
  bool StepPrefix();
  bool NextRandom();
  void AssertWalker() const;

  const SegmentPlan& plan_;
  uint64_t seed_;
  size_t n_;
  Phase phase_ = Phase::kStart;
  std::vector<uint8_t> bits_;
  std::vector<uint32_t> toggled_;
  std::vector<uint32_t> where_;  // 1 + a unit's position in toggled_, 0 when not there
  uint64_t produced_ = 0;
  uint64_t gray_i_ = 0;          // kGray: the index of the current state
  size_t prefix_index_ = 0;      // kPrefix
  uint32_t keep_ = 0;            // kPrefix: units kept in the current state
  int j_ = 0;                    // kKeep/kDrop: units kept/dropped in the current combinations
  std::vector<uint32_t> combo_;  // kKeep/kDrop: the current combination
  uint64_t random_done_ = 0, random_i_ = 0;  // kRandom
  std::mt19937_64 rng_;
  std::vector<uint8_t> scratch_;
};

// A bijection of [0, 2^n) for n in [1, 64], from the seed: the random phase's order.
uint64_t PermuteBits(uint64_t x, unsigned n, uint64_t seed);

}  // namespace torn::models
