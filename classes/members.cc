#include "classes/members.h"

#include <algorithm>
#include <iterator>

#include <fmt/core.h>

#include "oracles/durable.h"

namespace torn::classes {
namespace {

using oracles::DurableView;

bool Dropped(const models::CrashState& s, size_t entry) {
  return std::binary_search(s.dropped.begin(), s.dropped.end(), entry);
}

void SetDurable(models::CrashState& s, size_t entry, bool durable) {
  auto it = std::lower_bound(s.dropped.begin(), s.dropped.end(), entry);
  bool dropped = it != s.dropped.end() && *it == entry;
  if (durable && dropped) s.dropped.erase(it);
  if (!durable && !dropped) s.dropped.insert(it, entry);
}

bool IsSplitOff(const Member& m, const models::CrashState& s) {
  return std::find(m.split_off.begin(), m.split_off.end(), s.dropped) != m.split_off.end();
}

// Rule 1's rest keeps a rep that is none of the states split off its set: the first fixed entry
// flipped (with one plan that is always enough), else the first combination of flips that is.
void AvoidSplitOff(Member& m) {
  if (!IsSplitOff(m, m.state)) return;
  size_t k = std::min<size_t>(m.fixed.size(), 16);
  for (uint64_t mask = 1; mask < (uint64_t{1} << k); ++mask) {
    models::CrashState s = m.state;
    for (size_t i = 0; i < k; ++i)
      if (mask >> i & 1) SetDurable(s, m.fixed[i], Dropped(s, m.fixed[i]));
    if (!IsSplitOff(m, s)) {
      m.state = std::move(s);
      return;
    }
  }
}

// Rule 2's split over the fixed entries `bad`, one part per subset of them, queued in mask order.
void Split(const Member& m, const std::vector<size_t>& bad, std::deque<Member>& work) {
  std::vector<Member> parts;
  for (uint64_t mask = 0; mask < (uint64_t{1} << bad.size()); ++mask) {
    Member p = m;
    p.fixed.clear();
    std::set_difference(m.fixed.begin(), m.fixed.end(), bad.begin(), bad.end(), std::back_inserter(p.fixed));
    for (size_t k = 0; k < bad.size(); ++k) SetDurable(p.state, bad[k], mask >> k & 1);
    // An exact state split off lies in the part that has the bad entries as it has them; rule 1 on
    // each part finds it again there, and no other part loses it.
    if (!m.split_off.empty()) {
      p.split_off.clear();
      p.plans_checked = 0;
    }
    parts.push_back(std::move(p));
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) work.push_front(std::move(*it));
}

}  // namespace

GroupMembers::GroupMembers(const models::StateSpace& states, const models::CrashState& group,
                           std::vector<const oracles::DataPlan*> plans, const WindowFacts* facts)
    : units_(states.units(group.segment)),
      shared_(static_cast<size_t>(states.segments()[group.segment].shared)),
      plans_(std::move(plans)),
      facts_(facts) {
  Member first{group, {}, group.covers_previous};
  if (group.fixed) {
    const std::vector<uint8_t>& fixed = states.fixed(group.segment);
    for (size_t u = 0; u < units_.size(); ++u)
      if (fixed[u]) first.fixed.push_back(units_[u].entry);
  }
  work_.push_back(std::move(first));
}

// Whether the member's set holds previous segment's states: every unit past the shared ones that it
// does not stand in for is dropped in its rep (every unit of the window, when none is shared).
bool GroupMembers::HoldsPrevious(const Member& m) const {
  if (!m.may_hold_previous) return false;
  for (size_t u = shared_; u < units_.size(); ++u)
    if (!std::binary_search(m.fixed.begin(), m.fixed.end(), units_[u].entry) && !Dropped(m.state, units_[u].entry))
      return false;
  return true;
}

// Whether `s`, a state of m's set, is one of the previous segment's.
bool GroupMembers::IsPrevious(const Member& m, const models::CrashState& s) const {
  if (!m.may_hold_previous) return false;
  for (size_t u = shared_; u < units_.size(); ++u)
    if (!Dropped(s, units_[u].entry)) return false;
  return true;
}

models::BigCount GroupMembers::Covers(const Member& m) const {
  models::BigCount n = models::BigCount(1) << m.fixed.size();
  if (HoldsPrevious(m)) {
    // The previous segment's states in the set: the fixed entries past the shared units dropped, those
    // among them free.
    size_t fixed_shared = 0;
    for (size_t u = 0; u < shared_ && u < units_.size(); ++u)
      fixed_shared += std::binary_search(m.fixed.begin(), m.fixed.end(), units_[u].entry);
    n -= models::BigCount(1) << fixed_shared;
  }
  n -= m.split_off.size();
  return n;
}

// Rule 1, plan by plan from where the member left off: true when it split (both parts are queued).
bool GroupMembers::SplitExact(Member& m) {
  while (m.plans_checked < plans_.size()) {
    const oracles::DataPlan* plan = plans_[m.plans_checked++];
    if (!plan || m.fixed.empty()) continue;
    oracles::DataPlan::Applies a = plan->For(DurableView(m.state));
    if (!a.rule) continue;
    Member exact = m;
    for (size_t e : m.fixed) SetDurable(exact.state, e, e <= a.rule->mark_entry);
    if (!plan->For(DurableView(exact.state)).exact) continue;
    if (IsPrevious(m, exact.state) || IsSplitOff(m, exact.state)) continue;
    Member rest = m;
    rest.split_off.push_back(exact.state.dropped);
    AvoidSplitOff(rest);
    exact.fixed.clear();
    exact.may_hold_previous = false;
    exact.split_off.clear();
    exact.plans_checked = plans_.size();
    if (Covers(rest) > 0) work_.push_front(std::move(rest));
    work_.push_front(std::move(exact));
    return true;
  }
  return false;
}

std::optional<Member> GroupMembers::Next() {
  while (!work_.empty()) {
    Member m = std::move(work_.front());
    work_.pop_front();
    if (SplitExact(m)) continue;
    return m;
  }
  return std::nullopt;
}

Reproof GroupMembers::Prove(Member& m, const Analysis& rep) {
  Reproof r;
  if (m.fixed.empty()) return r;
  std::vector<uint8_t> try_units(units_.size(), 0);
  for (size_t u = 0; u < units_.size(); ++u)
    try_units[u] = std::binary_search(m.fixed.begin(), m.fixed.end(), units_[u].entry);
  std::vector<UnitProof> proofs;
  if (facts_) {
    proofs = ProveUnits(*facts_, rep, try_units);
  } else {  // nothing to prove them with: every fixed entry fails
    proofs.assign(units_.size(), UnitProof{UnitKind::kFree, "no facts of the window"});
  }
  std::vector<size_t> bad;
  for (size_t u = 0; u < units_.size(); ++u) {
    if (!try_units[u] || proofs[u].kind != UnitKind::kFree) continue;
    bad.push_back(units_[u].entry);
    if (r.why.empty()) r.why = fmt::format("entry {}: {}", units_[u].entry, proofs[u].why);
  }
  if (bad.empty()) return r;
  r.failed = bad.size();
  if (bad.size() <= kMaxSplit) {
    Split(m, bad, work_);
    r.outcome = Reproof::Outcome::kSplit;
    return r;
  }
  r.lost = Covers(m) - 1;
  m.fixed.clear();
  m.split_off.clear();
  m.may_hold_previous = false;
  r.outcome = Reproof::Outcome::kAlone;
  return r;
}

}  // namespace torn::classes
