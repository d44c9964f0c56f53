#include "gate/report.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "report/junit.h"
#include "report/report.h"
#include "report/summary.h"
#include "models/model.h"

namespace torn::gate {
namespace {

std::string GroupName(const SegmentGroup& g) {
  std::string barrier = g.barrier == models::kNoEntry ? "no barrier" : fmt::format("barrier {}", g.barrier);
  return fmt::format("segment {} (crash points {}-{} after {})", g.segment, g.first, g.last, barrier);
}

}  // namespace

nlohmann::json GateToJson(const GateResult& r) {
  nlohmann::json j;
  j["kernel"] = r.kernel;
  j["loop_module"] = r.loop_module;
  j["loop_mode"] = r.loop_mode;
  j["inject"] = r.inject;
  j["outer_fs"] = r.outer_fs;
  j["workload"] = r.workload;
  j["model"] = r.model;
  j["strategy"] = r.strategy;
  j["entries"] = r.entries;
  j["states"] = {{"possible", report::CountJson(r.possible)},
                 {"generated", r.generated},
                 {"checked", r.checked},
                 {"covered", report::CountJson(r.covered)}};
  j["classes"] = {{"on", r.classes}, {"outer", r.outer_classes}, {"inner", r.inner_classes}};
  j["reductions"] = r.reductions;
  j["distinct_images"] = {{"lower", r.outer_classes}, {"inner", r.inner_classes}};
  j["manifests"] = {{"inner", r.inner_marks}, {"outer", r.outer_marks}};
  j["seconds"] = {{"boot", r.boot_seconds}, {"record", r.record_seconds}, {"check", r.check_seconds},
                  {"total", r.total_seconds}};
  j["notes"] = r.notes;
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : r.violations) {
    nlohmann::json x = {{"id", v.id},
                        {"level", std::string(LevelName(v.level))},
                        {"oracle", std::string(oracles::OracleName(v.oracle))},
                        {"state", v.state},
                        {"segment", v.segment},
                        {"crash_point", v.crash_point},
                        {"dropped", v.dropped},
                        {"covers", report::CountJson(v.covers)}};
    if (!v.outer_class.empty()) x["class"] = v.outer_class;
    if (!v.inner_class.empty()) x["inner_class"] = v.inner_class;
    x["detail"] = v.detail;
    vs.push_back(std::move(x));
  }
  j["violations"] = vs;
  return j;
}

std::string GateToJunit(const GateResult& r) {
  report::JunitSuite suite{.name = "torn gate", .time = r.total_seconds};
  suite.properties = {{"kernel", r.kernel},
                      {"loop_module", r.loop_module},
                      {"loop_mode", r.loop_mode},
                      {"inject", r.inject},
                      {"outer_fs", r.outer_fs},
                      {"model", r.model},
                      {"states_possible", r.possible},
                      {"states_covered", r.covered},
                      {"states_checked", std::to_string(r.checked)},
                      {"classes_outer", r.classes ? std::to_string(r.outer_classes) : "off"},
                      {"classes_inner", r.classes ? std::to_string(r.inner_classes) : "off"}};
  for (const auto& g : r.groups) {
    report::JunitCase c{.name = GroupName(g), .classname = "torn.gate." + r.loop_mode};
    if (!g.violations.empty()) {
      std::string text;
      size_t states = 0;
      uint64_t last = ~0ull;
      for (const auto& v : g.violations) {
        if (v.state != last) ++states;
        last = v.state;
        text += fmt::format("state {} [{} {}] crash point {} dropped {}: {}\n", v.state, LevelName(v.level),
                            oracles::OracleName(v.oracle), v.crash_point, report::EntryList(v.dropped), v.detail);
      }
      c.failures.push_back(
          {fmt::format("{} of {} states fail ({} violations)", states, g.states, g.violations.size()), "violation",
           text});
    }
    suite.cases.push_back(std::move(c));
  }
  return report::WriteJunit(suite);
}

std::string GateToText(const GateResult& r, const GateTextOptions& o) {
  constexpr size_t kShown = 10, kRows = 8;
  std::string out;
  out += fmt::format("torn gate: kernel {}; outer {}; loop mode {}; injection {}; workload {}\n", r.kernel,
                     r.outer_fs, r.loop_mode, r.inject, r.workload);
  if (!r.loop_module.empty()) out += fmt::format("  loop module in the guest: {}\n", r.loop_module);
  out += fmt::format("  lower crash states {} possible, {} generated, {} checked ({})\n", r.possible, r.generated,
                     r.checked, r.strategy);
  if (r.classes) {
    out += fmt::format("  classes judged: {} outer, {} inner; states covered {}{}\n", r.outer_classes,
                       r.inner_classes, r.covered, r.covered == r.possible ? ": every lower state" : "");
  } else {
    out += fmt::format("  distinct images judged (no classes): {} lower, {} inner; states covered {}\n",
                       r.outer_classes, r.inner_classes, r.covered);
  }
  for (const auto& line : r.reductions) out += fmt::format("  {}\n", line);
  out += fmt::format("  time: boot {:.1f} s, recording {:.1f} s (boot included), checking {:.1f} s, total {:.1f} s\n",
                     r.boot_seconds, r.record_seconds, r.check_seconds, r.total_seconds);
  for (const auto& n : r.notes) out += fmt::format("  note: {}\n", n);
  std::map<uint64_t, std::string> failing;  // failing judged state -> the states it stands for
  for (const auto& v : r.violations) failing[v.state] = v.covers;
  // The last line starts as it always did ("PASS: 0 violations in N lower crash states", "FAIL: "): CI
  // scripts grep it. N is the states covered: every one of them lies in a class that was judged.
  if (r.violations.empty()) return out + fmt::format("\nPASS: 0 violations in {} lower crash states\n", r.covered);

  std::map<std::pair<Level, oracles::Oracle>, std::set<uint64_t>> by;
  for (const auto& v : r.violations) by[{v.level, v.oracle}].insert(v.state);
  out += fmt::format("\n{:<6} {:<9} {:>14}\n", "level", "oracle", "failing states");
  for (const auto& [k, states] : by)
    out += fmt::format("{:<6} {:<9} {:>14}\n", LevelName(k.first), oracles::OracleName(k.second), states.size());
  std::vector<std::pair<size_t, const SegmentGroup*>> rows;
  for (const auto& g : r.groups) {
    std::set<uint64_t> s;
    for (const auto& v : g.violations) s.insert(v.state);
    if (!s.empty()) rows.push_back({s.size(), &g});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  out += fmt::format("\n{:>7} {:>8}  {}\n", "states", "failing", "segment");
  for (size_t i = 0; i < rows.size() && i < kRows; ++i)
    out += fmt::format("{:>7} {:>8}  {}\n", rows[i].second->states, rows[i].first, GroupName(*rows[i].second));
  if (rows.size() > kRows) out += fmt::format("  … {} more segments with failing states\n", rows.size() - kRows);

  out += "\n";
  size_t n = o.all ? r.violations.size() : std::min(r.violations.size(), kShown);
  for (size_t i = 0; i < n; ++i) {
    const auto& v = r.violations[i];
    if (o.all) {
      out += fmt::format("violation {}: [{} {}] state {} crash point {} dropped {}: {}\n", v.id, LevelName(v.level),
                         oracles::OracleName(v.oracle), v.state, v.crash_point, report::EntryList(v.dropped),
                         v.detail);
      continue;
    }
    out += fmt::format("#{} {} {} on state {}, segment {}, crash point {}\n", v.id, LevelName(v.level),
                       oracles::OracleName(v.oracle), v.state, v.segment, v.crash_point);
    out += fmt::format("    dropped {} entries: {}\n", v.dropped.size(), report::ShortEntryList(v.dropped));
    out += fmt::format("    {}\n", v.detail);
    if (v.covers != "1") out += fmt::format("    stands for {} lower states of its class ({})\n", v.covers, v.outer_class);
  }
  // An outer fsck violation is the lower image failing e2fsck: rebuilt by hand from the kept trace.
  auto outer = std::find_if(r.violations.begin(), r.violations.end(), [](const GateViolation& v) {
    return v.level == Level::kOuter && v.oracle == oracles::Oracle::kFsck;
  });
  if (outer != r.violations.end() && !o.kept_trace.empty() && o.image_bytes) {
    checker::Violation cv{.id = outer->id, .state = outer->state, .oracle = outer->oracle,
                          .crash_point = outer->crash_point, .dropped = outer->dropped};
    out += fmt::format("\nreproduce #{} (state {}): rebuild the lower image and check it by hand\n  {}\n", cv.id,
                       cv.state, report::ReproduceCommand(o.kept_trace, o.image_bytes, cv, "lower.img"));
  } else if (o.kept_trace.empty()) {
    out += "\n(--keep-trace DIR keeps the lower trace: torn replay DIR --to-entry CP --drop LIST rebuilds a state)\n";
  }
  models::BigCount failing_covered = 0;
  for (const auto& [state, covers] : failing) failing_covered += models::BigCount(covers);
  out += fmt::format("\nFAIL: {} violations in {} of {} lower crash states judged, standing for {} of the {} states "
                     "covered\n",
                     r.violations.size(), failing.size(), r.checked, failing_covered.str(), r.covered);
  if (n < r.violations.size())
    out += fmt::format("{} more not shown: --all lists every one, --json / --junit FILE keep them all\n",
                       r.violations.size() - n);
  return out;
}

}  // namespace torn::gate
