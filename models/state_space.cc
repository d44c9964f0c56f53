// StateSpace: the plan (plan.h) walked segment by segment (walker.h), each state turned into a
// CrashState and, when asked, given its content digest (digest.h), updated from the units toggled.
#include <algorithm>
#include <cassert>

#include "base/interrupt.h"
#include "models/content_tracker.h"
#include "models/model.h"
#include "models/plan.h"
#include "models/walker.h"

namespace torn::models {

struct StateSpace::Impl {
  const trace::Log* log = nullptr;
  SpaceOptions options;
  Plan plan;
  std::vector<Segment> segments;
};

StateSpace::StateSpace() = default;
StateSpace::~StateSpace() = default;
StateSpace::StateSpace(StateSpace&&) noexcept = default;
StateSpace& StateSpace::operator=(StateSpace&&) noexcept = default;

Result<StateSpace> StateSpace::Build(const trace::Log& log, const SpaceOptions& options) {
  TORN_ASSIGN_OR_RETURN(Plan plan, PlanStates(log, options));
  StateSpace s;
  s.impl_ = std::make_unique<Impl>();
  s.impl_->log = &log;
  s.impl_->options = options;
  for (const SegmentPlan& sp : plan.segments) s.impl_->segments.push_back(sp.info);
  s.impl_->plan = std::move(plan);
  return s;
}

const std::vector<Segment>& StateSpace::segments() const { return impl_->segments; }
Coverage StateSpace::coverage() const { return impl_->plan.coverage; }
std::span<const Unit> StateSpace::units(size_t segment) const { return impl_->plan.segments[segment].units; }
const std::vector<uint8_t>& StateSpace::fixed(size_t segment) const {
  return impl_->plan.segments[segment].fixed;
}

namespace {

// The plan the walker walks: the segment's free units only (all of them without a reduction). With a
// reduction, the groups keeping no free unit past the shared ones (plan.h; for every model but
// reorder:K, the group of "every free unit dropped") are drawn when the segment is exhaustive and a
// fixed unit past the shared ones makes them hold states besides the previous segment's; they are
// left out when bounded (so that every generated state stands for exactly 2^fixed states, plan.cc)
// or when they hold only the previous segment's states.
SegmentPlan FreeWalkPlan(const SegmentPlan& sp, std::vector<uint32_t>& free_units) {
  free_units.clear();
  if (sp.fixed.empty()) return sp;
  SegmentPlan free = sp;
  free.units.clear();
  free.shadows.clear();
  free.fixed.clear();
  bool fixed_past_shared = false;
  free.shared = 0;
  for (uint32_t u = 0; u < sp.units.size(); ++u) {
    if (sp.fixed[u]) {
      fixed_past_shared |= u >= sp.shared;
      continue;
    }
    free_units.push_back(u);
    free.units.push_back(sp.units[u]);
    free.shared += u < sp.shared;
  }
  free.skip_base = sp.skip_base && (!sp.exhaustive || !fixed_past_shared);
  return free;
}

// Fills the durable-set fields of `st` from the unit bits (one per unit of the segment).
void DescribeState(const SegmentPlan& sp, const Walker& w, const std::vector<uint8_t>& bits, CrashState& st) {
  st.segment = sp.info.index;
  st.base_end = sp.info.base_end;
  st.dropped.clear();
  st.torn.clear();
  if (sp.kind == WindowKind::kPrefixes) {
    st.crash_point = sp.prefixes[w.prefix_index()].last_point;
    st.first_crash_point = sp.prefixes[w.prefix_index()].first_point;
  } else {
    st.crash_point = sp.info.last;
    st.first_crash_point = sp.first_point;
  }
  size_t latest_kept = 0;
  for (size_t u = 0; u < sp.units.size();) {
    size_t entry = sp.units[u].entry, end = u, kept = 0;
    while (end < sp.units.size() && sp.units[end].entry == entry) kept += bits[end++];
    if (kept > 0) latest_kept = entry;
    if (entry <= st.crash_point && kept == 0) st.dropped.push_back(entry);
    if (kept > 0 && kept < end - u) {
      TornWrite t{entry, {}};
      for (size_t v = u; v < end; ++v)
        if (bits[v]) t.sectors.push_back(sp.units[v].offset);
      st.torn.push_back(std::move(t));
    }
    u = end;
  }
  // The state is first reachable at the first selected crash point at or after its last kept entry.
  if (latest_kept > st.first_crash_point)
    st.first_crash_point = *std::lower_bound(sp.points.begin(), sp.points.end(), latest_kept);
}

}  // namespace

Status StateSpace::ForEach(const std::function<Status(const CrashState&)>& visit) const {
  CrashState st;
  uint64_t id = 0;
  const bool digests = impl_->options.digests;
  ContentTracker content(*impl_->log);
  std::vector<uint32_t> write_of_unit, free_units, toggled;
  std::vector<uint8_t> bits;
  for (const SegmentPlan& sp : impl_->plan.segments) {
    const SegmentPlan walk = FreeWalkPlan(sp, free_units);
    const uint32_t fixed = static_cast<uint32_t>(sp.info.fixed);
    const uint32_t fixed_shared = sp.shared - walk.shared;  // fixed units the previous segment may hold
    if (digests) {
      TORN_RETURN_IF_ERROR(content.Enter(sp.info.base_end, sp.info.last, /*keep_data=*/false));
      write_of_unit.resize(sp.units.size());
      for (size_t u = 0; u < sp.units.size(); ++u) write_of_unit[u] = *content.WriteOf(sp.units[u].entry);
    }
    // Shadow pairs (x, y) by unit, and how many have both kept: a state with one is a duplicate.
    std::vector<std::vector<uint32_t>> pairs_of(sp.info.duplicates ? sp.units.size() : 0);
    for (uint32_t p = 0; p < sp.shadows.size() && sp.info.duplicates; ++p) {
      pairs_of[sp.shadows[p].first].push_back(p);
      pairs_of[sp.shadows[p].second].push_back(p);
    }
    uint64_t both_kept = 0;
    std::vector<uint8_t> kept(pairs_of.size(), 0);  // the walker's bits, one toggle at a time
    Walker w(walk, impl_->options.seed + sp.info.index);
    bits.assign(sp.units.size(), 0);
    bool first = true;
    while (w.Next()) {
      // The walker's toggles in unit numbers; the fixed units come on with the first state.
      toggled.clear();
      if (first) {
        for (uint32_t u = 0; u < sp.fixed.size(); ++u)
          if (sp.fixed[u]) toggled.push_back(u);
        first = false;
      }
      for (uint32_t f : w.toggled()) toggled.push_back(free_units.empty() ? f : free_units[f]);
      for (uint32_t u : toggled) bits[u] ^= 1;
      for (uint32_t u : sp.info.duplicates ? w.toggled() : std::vector<uint32_t>{}) {
        for (uint32_t p : pairs_of[u]) {
          uint32_t other = sp.shadows[p].first == u ? sp.shadows[p].second : sp.shadows[p].first;
          if (kept[other]) both_kept = kept[u] ? both_kept - 1 : both_kept + 1;
        }
        kept[u] ^= 1;
      }
      st.duplicate = both_kept > 0;
      if ((id & 1023) == 0) TORN_RETURN_IF_ERROR(CheckInterrupted());
      st.id = id++;
      DescribeState(sp, w, bits, st);
      st.fixed = fixed;
      st.covers_previous = fixed > 0 && sp.skip_base && !walk.skip_base &&
                           std::none_of(w.bits().begin() + walk.shared, w.bits().end(), [](uint8_t b) { return b != 0; });
      st.previous_fixed = st.covers_previous ? fixed_shared : 0;
      if (digests) {
        for (uint32_t u : toggled) {
          const Unit& unit = sp.units[u];
          content.Set(write_of_unit[u], unit.offset, unit.offset + unit.count, bits[u]);
        }
        content.Commit();
        st.digest = content.digest();
      }
      TORN_RETURN_IF_ERROR(visit(st));
    }
  }
  return Status::Ok();
}

}  // namespace torn::models
