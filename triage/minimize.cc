#include "triage/minimize.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace torn::triage {

std::vector<Lost> LostElements(const trace::Log& log, const models::CrashState& failing) {
  std::vector<Lost> out;
  for (size_t e : failing.dropped) out.push_back({e, std::nullopt});
  for (const models::TornWrite& t : failing.torn) {
    const uint64_t n = t.entry < log.size() ? log.entry(t.entry).nr_sectors : 0;
    for (uint32_t s = 0; s < n; ++s)
      if (!std::binary_search(t.sectors.begin(), t.sectors.end(), s) &&
          std::find(t.sectors.begin(), t.sectors.end(), s) == t.sectors.end())
        out.push_back({t.entry, s});
  }
  std::sort(out.begin(), out.end());
  return out;
}

models::CrashState WithOnly(const trace::Log& log, const models::CrashState& failing, const std::vector<Lost>& lost) {
  models::CrashState s;
  s.id = failing.id;
  s.segment = failing.segment;
  s.crash_point = failing.crash_point;
  s.first_crash_point = failing.first_crash_point;
  s.base_end = failing.base_end;
  std::map<size_t, std::vector<uint32_t>> lost_sectors;
  for (const Lost& l : lost) {
    if (l.sector) lost_sectors[l.entry].push_back(*l.sector);
    else s.dropped.push_back(l.entry);
  }
  for (auto& [entry, sectors] : lost_sectors) {
    const uint64_t n = log.entry(entry).nr_sectors;
    models::TornWrite t{.entry = entry, .sectors = {}};
    for (uint32_t k = 0; k < n; ++k)
      if (!std::binary_search(sectors.begin(), sectors.end(), k)) t.sectors.push_back(k);
    if (t.sectors.empty()) s.dropped.push_back(entry);  // every sector lost: the write is lost
    else s.torn.push_back(std::move(t));
  }
  std::sort(s.dropped.begin(), s.dropped.end());
  return s;
}

Result<Minimized> Minimize(Rejudge& judge, const Failure& f, const DdminOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const trace::Log& log = judge.setup().log;
  const RejudgeStats before = judge.stats();
  const std::vector<Lost> elements = LostElements(log, f.state);
  std::map<std::vector<size_t>, std::string> verdict_of;  // subset -> signature ("" when it passed)
  std::map<std::vector<size_t>, std::string> detail_of;

  auto subset_of = [&](const std::vector<size_t>& idx) {
    std::vector<Lost> lost;
    for (size_t i : idx) lost.push_back(elements[i]);
    return lost;
  };
  TestBatch test = [&](const std::vector<std::vector<size_t>>& candidates) -> Result<std::vector<Outcome>> {
    std::vector<models::CrashState> states;
    for (const auto& c : candidates) states.push_back(WithOnly(log, f.state, subset_of(c)));
    TORN_ASSIGN_OR_RETURN(std::vector<oracles::Verdict> verdicts, judge.Judge(states, f.signature));
    std::vector<Outcome> out;
    for (size_t k = 0; k < verdicts.size(); ++k) {
      const oracles::Verdict& v = verdicts[k];
      verdict_of[candidates[k]] = v.ok ? "" : v.signature;
      detail_of[candidates[k]] = v.detail;
      out.push_back(v.ok ? Outcome::kPass : v.signature == f.signature ? Outcome::kFail : Outcome::kOther);
    }
    return out;
  };
  TORN_ASSIGN_OR_RETURN(DdminResult d, Ddmin(elements.size(), test, options));

  Minimized m;
  m.lost = elements.size();
  m.reproduced = d.reproduced;
  m.one_minimal = d.one_minimal;
  m.budget_cut = d.budget_cut;
  m.minimal = subset_of(d.minimal);
  m.state = WithOnly(log, f.state, m.minimal);
  m.detail = detail_of[d.minimal];
  for (size_t k = 0; k < d.without.size(); ++k) {
    std::vector<size_t> without = d.minimal;
    without.erase(without.begin() + k);
    const std::string& sig = verdict_of[without];
    m.put_back.push_back(d.without[k] == Outcome::kPass ? "passes" : "fails otherwise: " + sig);
  }
  const RejudgeStats& after = judge.stats();
  m.tests = d.tests;
  m.cache_hits = after.cache_hits - before.cache_hits;
  m.judged = after.judged - before.judged;
  m.e2fsck_runs = after.e2fsck_runs - before.e2fsck_runs;
  m.boots = after.boots - before.boots;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

}  // namespace torn::triage
