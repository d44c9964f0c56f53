#include "classes/reducer.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>

namespace torn::classes {

std::vector<std::string> ReadFiles(const oracles::DataPlan* data, size_t crash_point,
                                   const std::vector<std::string>& extra) {
  std::set<std::string> files(extra.begin(), extra.end());
  if (data) {
    // The rule in force is the last manifest at or before the crash point (oracles/data.h); its
    // manifest lists every file the rule can read (the stable ones, and all of them for the state at
    // the mark).
    const oracles::DataRule* rule = nullptr;
    for (const auto& r : data->rules())
      if (r.mark_entry <= crash_point) rule = &r;
    if (rule)
      for (const auto& f : rule->manifest.files) files.insert(f.path);
  }
  return {files.begin(), files.end()};
}

Result<std::unique_ptr<Reducer>> Reducer::Create(const trace::Log& log, const ReducerOptions& options) {
  std::unique_ptr<Reducer> r(new Reducer(log, options));
  TORN_ASSIGN_OR_RETURN(r->file_, TempFile::Create("torn-reduce-", options.scratch_dir));
  TORN_ASSIGN_OR_RETURN(replay::Materializer m,
                        replay::Materializer::Open(log, r->file_.path(), {.device_bytes = options.image_bytes}));
  r->image_.emplace(std::move(m));
  return r;
}

models::FixUnits Reducer::Callback() {
  return [this](const models::Segment& s, std::span<const models::Unit> units) { return Fix(s, units); };
}

const WindowFacts* Reducer::facts(size_t segment) const {
  auto it = facts_.find(segment);
  return it == facts_.end() ? nullptr : &it->second;
}

Result<std::vector<uint8_t>> Reducer::Fix(const models::Segment& seg, std::span<const models::Unit> units) {
  ++summary_.windows;
  std::vector<uint8_t> fixed(units.size(), 0);
  auto context = [&](const std::string& what) { return fmt::format("window {} ({}..{}): {}", seg.index, seg.first, seg.last, what); };

  // The window's base: every unit dropped.
  models::CrashState base;
  base.segment = seg.index;
  base.crash_point = base.first_crash_point = seg.last;
  base.base_end = seg.base_end;
  for (const models::Unit& u : units)
    if (base.dropped.empty() || base.dropped.back() != u.entry) base.dropped.push_back(u.entry);
  TORN_RETURN_IF_ERROR(image_->MoveTo(base, &seg).with_context(context("its base")));
  ext4::ImageView view(image_->fd(), image_->bytes());
  KeyOptions ko{.read_files = ReadFiles(options_.data, seg.last, options_.extra_read_files)};
  TORN_ASSIGN_OR_RETURN(Analysis base_analysis, Analyze(view, ko));
  view.ClearOverlay();
  std::vector<size_t> relevant;
  if (options_.ordering) relevant = options_.ordering->Relevant(seg.base_end, seg.last);
  TORN_ASSIGN_OR_RETURN(WindowFacts facts,
                        BuildWindowFacts(log_, seg.index, units, view, base_analysis.recovery.journal_map,
                                         base_analysis.recovery.block_size, relevant));

  // The state that keeps every unit: the rep of the group with no free unit.
  models::CrashState rep = base;
  rep.dropped.clear();
  TORN_RETURN_IF_ERROR(image_->MoveTo(rep, &seg).with_context(context("the state keeping every write")));
  TORN_ASSIGN_OR_RETURN(Analysis a, Analyze(view, ko));
  view.ClearOverlay();
  if (!facts.block_size) facts.block_size = a.recovery.block_size;

  std::vector<uint8_t> all(units.size(), 1);
  std::vector<UnitProof> proofs = ProveUnits(facts, a, all);
  for (size_t u = 0; u < units.size(); ++u) {
    fixed[u] = proofs[u].kind != UnitKind::kFree;
    ++summary_.units[proofs[u].kind];
    ++summary_.window_units[seg.index][proofs[u].kind];
    if (!fixed[u])
      summary_.free.push_back(fmt::format("window {}: entry {}{}: {}", seg.index, units[u].entry,
                                          units[u].count == log_.entry(units[u].entry).nr_sectors
                                              ? ""
                                              : fmt::format(" sector {}", units[u].offset),
                                          proofs[u].why));
  }
  if (std::count(fixed.begin(), fixed.end(), uint8_t{1}) > 0) {
    ++summary_.reduced_windows;
  } else if (!a.reduced) {
    summary_.not_reduced.push_back(context(a.why_not));
  }
  facts_.emplace(seg.index, std::move(facts));
  return fixed;
}

std::string DescribeReduction(const ReductionSummary& s) {
  uint64_t fixed = 0, free = 0;
  std::string by_rule;
  for (const auto& [kind, n] : s.units) {
    if (kind == UnitKind::kFree) {
      free += n;
      continue;
    }
    fixed += n;
    by_rule += fmt::format("{}{} {}", by_rule.empty() ? "" : ", ", n, UnitKindName(kind));
  }
  return fmt::format("{} of {} windows reduced; {} writes fixed ({}), {} left free", s.reduced_windows, s.windows,
                     fixed, by_rule.empty() ? "none" : by_rule, free);
}

}  // namespace torn::classes
