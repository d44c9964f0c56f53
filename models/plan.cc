#include "models/plan.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include <fmt/core.h>

#include "models/dependency_graph.h"

namespace torn::models {
namespace {

bool Selected(const trace::Log& log, size_t c, const SpaceOptions& o) {
  if (o.from_entry && c < *o.from_entry) return false;
  const trace::Entry& e = log.entry(c);
  switch (o.points) {
    case CrashPoints::kAll: return true;
    case CrashPoints::kFlush: return e.flush();
    case CrashPoints::kFua: return e.fua();
    case CrashPoints::kMark: return e.mark();
  }
  return true;
}

BigCount Pow2(uint64_t n) { return BigCount(1) << n; }

uint64_t Saturate(const BigCount& v) {
  static const BigCount kMax = std::numeric_limits<uint64_t>::max();
  return v > kMax ? std::numeric_limits<uint64_t>::max() : v.convert_to<uint64_t>();
}

// The window's units up to `last`, and the overwrites among them as unit pairs.
void MakeUnits(const trace::Log& log, const DependencyGraph& graph, const Window& w, size_t last,
               bool sector_units, SegmentPlan& sp) {
  std::vector<std::pair<size_t, uint32_t>> first_unit;  // (entry, its first unit), by entry
  for (size_t m : w.members) {
    if (m > last) break;
    first_unit.emplace_back(m, static_cast<uint32_t>(sp.units.size()));
    uint32_t n = static_cast<uint32_t>(log.entry(m).nr_sectors);
    if (!sector_units) {
      sp.units.push_back({m, 0, n});
      continue;
    }
    for (uint32_t s = 0; s < n; ++s) sp.units.push_back({m, s, 1});
  }
  auto unit_of = [&](size_t entry) {
    return std::lower_bound(first_unit.begin(), first_unit.end(), std::make_pair(entry, 0u))->second;
  };
  for (auto [x, y] : graph.Overwrites(w)) {
    if (y > last) continue;
    uint32_t ux = unit_of(x), uy = unit_of(y);
    if (!sector_units) {
      sp.shadows.emplace_back(ux, uy);
      continue;
    }
    const trace::Entry &ex = log.entry(x), &ey = log.entry(y);
    for (uint32_t s = 0; s < ex.nr_sectors; ++s)
      sp.shadows.emplace_back(ux + s, uy + static_cast<uint32_t>(ex.sector + s - ey.sector));
  }
}

void MakePrefixes(const trace::Log& log, const Window& w, size_t lo, const SpaceOptions& o,
                  SegmentPlan& sp) {
  uint32_t keep = 0;
  size_t next_member = 0;
  for (size_t c = lo; c < w.end; ++c) {
    if (next_member < w.members.size() && w.members[next_member] == c) ++keep, ++next_member;
    if (!Selected(log, c, o)) continue;
    if (!sp.prefixes.empty() && sp.prefixes.back().keep == keep)
      sp.prefixes.back().last_point = c;
    else
      sp.prefixes.push_back({keep, c, c});
  }
  if (sp.skip_base && !sp.prefixes.empty() && sp.prefixes.front().keep == 0)
    sp.prefixes.erase(sp.prefixes.begin());
}

// The units the walker draws from: those the reduction did not fix.
uint64_t FreeUnits(const SegmentPlan& sp) { return sp.units.size() - sp.info.fixed; }

// Of the first `shared` units (those the previous segment's states may hold), how many are free; and
// whether a unit past them is fixed (then no group lies wholly in the previous segment).
uint64_t FreeShared(const SegmentPlan& sp) {
  if (sp.fixed.empty()) return sp.shared;
  return sp.shared - static_cast<uint64_t>(std::count(sp.fixed.begin(), sp.fixed.begin() + sp.shared, uint8_t{1}));
}
bool FixedPastShared(const SegmentPlan& sp) {
  return !sp.fixed.empty() && std::count(sp.fixed.begin() + sp.shared, sp.fixed.end(), uint8_t{1}) > 0;
}

// The groups a bounded walk draws from: those holding a state that is not the previous segment's
// with every group standing for 2^fixed states, so the groups keeping no free unit past the shared
// ones are left out (FreeWalkPlan in state_space.cc).
BigCount BoundedPool(const SegmentPlan& sp) {
  return Pow2(FreeUnits(sp)) - (sp.skip_base ? Pow2(FreeShared(sp)) : BigCount(0));
}

void ChooseStrategy(SegmentPlan& sp, uint64_t share, uint64_t seed) {
  Segment& s = sp.info;
  if (s.groups <= share) {
    sp.exhaustive = true;
    s.generated = s.groups.convert_to<uint64_t>();
    s.covered = s.possible;
    s.strategy = "exhaustive";
    return;
  }
  sp.exhaustive = false;
  // Bounded with a reduction: the groups holding the previous segment's states are left out
  // (BoundedPool), so each generated state stands for exactly 2^fixed; under reorder:K the pool may
  // be smaller than `groups` by more than the share left.
  BigCount pool = sp.kind == WindowKind::kSubsets ? BoundedPool(sp) : s.groups;
  s.generated = pool < share ? pool.convert_to<uint64_t>() : share;
  s.covered = BigCount(s.generated) << s.fixed;
  if (sp.kind == WindowKind::kPrefixes) {
    sp.random = share;
    s.strategy = fmt::format("bounded: {} evenly spaced prefixes", share);
    return;
  }
  const uint64_t free = FreeUnits(sp), free_shared = FreeShared(sp);
  sp.k = -1;
  while (static_cast<uint64_t>(sp.k + 1) <= free &&
         NeighbourhoodSize(free, sp.k + 1, sp.skip_base, free_shared) <= s.generated / 2)
    ++sp.k;
  uint64_t near = NeighbourhoodSize(free, sp.k, sp.skip_base, free_shared);
  sp.random = s.generated - near;
  s.strategy = sp.k >= 0 ? fmt::format("bounded: keep or drop at most {} units ({} states) + {} "
                                       "random (seed {})",
                                       sp.k, near, sp.random, seed)
                         : fmt::format("bounded: {} random (seed {})", sp.random, seed);
}

// Exhaustive subsets: how many of the segment's states keep a unit together with one that overwrites it
// (one pass over the 2^n masks, n being small enough to fit the budget).
uint64_t CountDuplicates(const SegmentPlan& sp) {
  if (sp.kind != WindowKind::kSubsets || !sp.exhaustive || sp.shadows.empty() || sp.info.fixed) return 0;
  const size_t n = sp.units.size();
  std::vector<uint64_t> covers(n, 0);
  for (auto [x, y] : sp.shadows) covers[x] |= uint64_t{1} << y;
  std::vector<uint32_t> shadowed;
  for (uint32_t u = 0; u < n; ++u)
    if (covers[u]) shadowed.push_back(u);
  uint64_t count = 0;
  for (uint64_t m = sp.skip_base ? uint64_t{1} << sp.shared : 0; m < (uint64_t{1} << n); ++m) {
    for (uint32_t u : shadowed) {
      if ((m >> u & 1) && (m & covers[u])) {
        ++count;
        break;
      }
    }
  }
  return count;
}

// Asks the reduction which units to fix, and counts the states left to draw from.
Status Reduce(const FixUnits& fix_units, SegmentPlan& sp) {
  TORN_ASSIGN_OR_RETURN(std::vector<uint8_t> fixed, fix_units(sp.info, sp.units));
  if (fixed.size() != sp.units.size())
    return Internal(fmt::format("segment {}: the reduction answered for {} units of {}", sp.info.index,
                                fixed.size(), sp.units.size()));
  uint64_t n = static_cast<uint64_t>(std::count(fixed.begin(), fixed.end(), uint8_t{1}));
  if (n == 0) return Status::Ok();
  sp.fixed = std::move(fixed);
  sp.info.fixed = n;
  // With a fixed unit past the shared ones, the groups keeping no free unit past them hold other
  // states than the previous segment's, so they are drawn (exhaustive) and stand for 2^previous_fixed
  // states fewer; without one they hold only the previous segment's states and are left out.
  sp.info.groups = Pow2(sp.units.size() - n);
  if (sp.skip_base && !FixedPastShared(sp)) sp.info.groups -= Pow2(FreeShared(sp));
  return Status::Ok();
}

}  // namespace

uint64_t NeighbourhoodSize(uint64_t n, int k, bool skip_base, uint64_t shared) {
  if (k < 0) return 0;
  uint64_t kk = static_cast<uint64_t>(k);
  BigCount total;
  if (n <= 2 * kk) {
    total = Pow2(n);
  } else {
    BigCount choose = 1;  // C(n, j)
    for (uint64_t j = 0; j <= kk; ++j) {
      total += 2 * choose;
      choose = choose * (n - j) / (j + 1);
    }
  }
  if (skip_base) {
    // The skipped states are the subsets of the first `shared` units; those of size j are in the
    // neighbourhood when j <= k or j >= n - k.
    BigCount choose = 1;  // C(shared, j)
    for (uint64_t j = 0; j <= shared; ++j) {
      if (j <= kk || j + kk >= n) total -= choose;
      choose = choose * (shared - j) / (j + 1);
    }
  }
  return Saturate(total);
}

Result<Plan> PlanStates(const trace::Log& log, const SpaceOptions& options) {
  if (options.from_entry && *options.from_entry >= log.size())
    return BadInput(log.name() + ": crash points from entry " + std::to_string(*options.from_entry) +
                    ": past the last entry");
  const Rule& rule = RuleFor(options.model);
  const uint32_t reorder = options.model == ModelKind::kReorder ? options.reorder : 0;
  if (options.model == ModelKind::kReorder && (reorder < 1 || reorder > kMaxReorder))
    return BadInput(fmt::format("reorder:{}: K must be from 1 to {}", reorder, kMaxReorder));
  DependencyGraph graph = DependencyGraph::Build(log, rule);
  std::vector<uint64_t> content_before(log.size() + 1, 0);
  for (size_t i = 0; i < log.size(); ++i)
    content_before[i + 1] = content_before[i] + log.entry(i).changes_content();

  Plan plan;
  std::optional<size_t> prev_last;
  for (const Window& w : graph.Windows(reorder)) {
    size_t lo = w.barrier_entry == kNoEntry ? 0 : w.barrier_entry;
    SegmentPlan sp;
    for (size_t c = lo; c < w.end; ++c)
      if (Selected(log, c, options)) sp.points.push_back(c);
    if (sp.points.empty()) continue;
    std::optional<size_t> first = sp.points.front(), last = sp.points.back();
    sp.kind = w.chain ? WindowKind::kPrefixes : WindowKind::kSubsets;
    sp.first_point = *first;
    sp.info.barrier = w.base_entry;
    sp.info.base_end = sp.info.first = w.base_entry == kNoEntry ? 0 : w.base_entry + 1;
    sp.info.last = *last;
    MakeUnits(log, graph, w, *last, rule.sector_units, sp);
    sp.info.units = sp.units.size();
    if (prev_last && sp.info.base_end <= *prev_last + 1) {
      // reorder:K: the windows overlap; the states keeping only units logged up to the previous
      // segment's last point are that segment's.
      sp.skip_base = true;
      while (sp.shared < sp.units.size() && sp.units[sp.shared].entry <= *prev_last) ++sp.shared;
    } else {
      // The base equals the previous segment's largest state when no content was logged in between.
      sp.skip_base = prev_last && content_before[sp.info.base_end] == content_before[*prev_last + 1];
    }
    sp.info.shares_previous = sp.skip_base;
    sp.info.shared = sp.shared;
    prev_last = *last;
    for (size_t m : w.members) sp.info.content_entries += m <= *last;
    if (sp.kind == WindowKind::kPrefixes) {
      MakePrefixes(log, w, lo, options, sp);
      sp.info.possible = sp.prefixes.size();
    } else {
      sp.info.possible = Pow2(sp.units.size()) - (sp.skip_base ? Pow2(sp.shared) : BigCount(0));
    }
    if (sp.info.possible == 0) continue;
    sp.info.index = plan.segments.size();
    sp.info.groups = sp.info.possible;
    if (sp.kind == WindowKind::kSubsets && options.fix_units && !sp.units.empty())
      TORN_RETURN_IF_ERROR(Reduce(options.fix_units, sp));
    plan.segments.push_back(std::move(sp));
  }

  // The budget, from the smallest segment up: each takes at most an equal share of what is left.
  std::vector<size_t> order(plan.segments.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return plan.segments[a].info.groups < plan.segments[b].info.groups;
  });
  uint64_t remaining = options.max_states;
  size_t exhaustive = 0;
  for (size_t r = order.size(), i = 0; i < order.size(); ++i, --r) {
    SegmentPlan& sp = plan.segments[order[i]];
    ChooseStrategy(sp, remaining / r, options.seed);
    remaining -= sp.info.generated;
    exhaustive += sp.exhaustive;
  }

  Coverage& cov = plan.coverage;
  cov.seed = options.seed;
  for (SegmentPlan& sp : plan.segments) {
    sp.info.duplicates = CountDuplicates(sp);
    cov.possible += sp.info.possible;
    cov.generated += sp.info.generated;
    cov.covered += sp.info.covered;
    cov.duplicates += sp.info.duplicates;
  }
  cov.strategy = exhaustive == plan.segments.size()
                     ? "exhaustive"
                     : fmt::format("bounded: {} of {} segments exhaustive, the others keep or drop at "
                                   "most k units plus random states (seed {}), within {} states",
                                   exhaustive, plan.segments.size(), options.seed,
                                   options.max_states);
  return plan;
}

}  // namespace torn::models
