// The members of a group: what one generated state of a reduced state space stands for, cut into
// pieces that each share one class key. Used by `torn check` (checker/group.cc) and `torn gate`
// (gate/check.cc) alike, so both count and split the same way.
//
// A group is a generated state that keeps its window's fixed units durable (models/model.h,
// CrashState::covers; classes/reducer.h proved them). A member is a state (its rep, the one judged)
// plus the fixed entries it stands in for: it stands for every state that differs from the rep only
// in those entries, less the previous segment's states (counted there: those dropping every unit past
// the segment's shared ones, models::Segment::shared; under every model but reorder:K, the one with
// every unit dropped) and less the states split off as members of their own. The first member is the
// group itself. Rules, applied in this order:
//   1. exact states: for each data plan (oracles/data.h) in turn, the state a rule checks exactly (the
//      state at a manifest's mark) gets a member of its own when the member's set holds it and it is
//      neither the previous segment's state nor split off already; its data verdict is judged against
//      the whole manifest. The rest of the set stays a member, with a rep that is none of the states
//      split off (the first fixed entry flipped, else the next way that avoids them), so its data rule
//      is the non-exact one of every state it stands for.
//   2. proofs: the caller analyzes the member's rep on its image (class_key.h) and Prove() checks the
//      window's proof again for its fixed entries (unit_proof.h: a free unit of the group may have
//      changed what the reducer's proof relied on). Entries it fails for are split off: the member
//      becomes 2^k members, one per subset of them (each goes through rules 1 and 2 again); beyond
//      kMaxSplit entries at once the member stands for itself alone and the states it gave up are
//      reported as not covered.
//   3. the rest is the caller's: a member whose key was judged before reuses that class's verdicts.
// Invariants (checked by the tests in tests/classes_test.cc through torn check):
//   a. the covers of a group's members add up to the group's covers, less the states rule 2 gave up;
//   b. every state of a member's set has the rep's class key and the rep's data rule.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "classes/class_key.h"
#include "classes/unit_proof.h"
#include "models/model.h"
#include "oracles/data.h"

namespace torn::classes {

struct Member {
  models::CrashState state;        // the rep
  std::vector<size_t> fixed;       // entries it stands in for, sorted
  bool may_hold_previous = false;  // its set may hold the previous segment's states (the group's did)
  size_t plans_checked = 0;        // data plans rule 1 has looked at
  std::vector<std::vector<size_t>> split_off;  // `dropped` of the exact states split off its set
};

// The outcome of rule 2 for one member.
struct Reproof {
  enum class Outcome {
    kHolds,  // every fixed entry still proven: the member stands for its whole set
    kSplit,  // split into parts, queued; the caller drops this member
    kAlone,  // too many failed: the member now stands for its rep alone (fixed cleared)
  };
  Outcome outcome = Outcome::kHolds;
  size_t failed = 0;        // fixed entries the proof failed for
  std::string why;          // the first of them: "entry E: reason"
  models::BigCount lost = 0;  // kAlone: the states given up (not covered)
};

class GroupMembers {
 public:
  static constexpr size_t kMaxSplit = 12;

  // `plans`: the data plans whose exact states get members of their own (nullptr entries are
  // skipped); `facts`: the window's facts from the reducer (nullptr without a reduction: the group
  // then has no fixed entries). All must outlive this object.
  GroupMembers(const models::StateSpace& states, const models::CrashState& group,
               std::vector<const oracles::DataPlan*> plans, const WindowFacts* facts);

  // The next member to analyze (rule 1 applied to it), or nullopt when none is left.
  std::optional<Member> Next();
  // Rule 2 on `m`, given the analysis of its rep's image.
  Reproof Prove(Member& m, const Analysis& rep);
  // The states `m` stands for.
  models::BigCount Covers(const Member& m) const;

 private:
  bool HoldsPrevious(const Member& m) const;
  bool IsPrevious(const Member& m, const models::CrashState& s) const;
  bool SplitExact(Member& m);

  std::span<const models::Unit> units_;
  size_t shared_ = 0;  // the segment's leading units the previous segment's states may hold
  std::vector<const oracles::DataPlan*> plans_;
  const WindowFacts* facts_;
  std::deque<Member> work_;
};

}  // namespace torn::classes
