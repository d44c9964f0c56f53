#include "gate/report.h"

#include <fmt/core.h>

#include "checker/junit.h"
#include "checker/report.h"
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
  j["loop_mode"] = r.loop_mode;
  j["inject"] = r.inject;
  j["workload"] = r.workload;
  j["model"] = r.model;
  j["strategy"] = r.strategy;
  j["entries"] = r.entries;
  j["states"] = {{"possible", checker::CountJson(r.possible)}, {"generated", r.generated}, {"checked", r.checked}};
  j["distinct_images"] = {{"lower", r.distinct_lower}, {"inner", r.distinct_inner}};
  j["manifests"] = {{"inner", r.inner_marks}, {"outer", r.outer_marks}};
  j["seconds"] = {{"boot", r.boot_seconds}, {"record", r.record_seconds}, {"check", r.check_seconds},
                  {"total", r.total_seconds}};
  j["notes"] = r.notes;
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : r.violations)
    vs.push_back({{"id", v.id},
                  {"level", std::string(LevelName(v.level))},
                  {"oracle", std::string(checker::OracleName(v.oracle))},
                  {"state", v.state},
                  {"segment", v.segment},
                  {"crash_point", v.crash_point},
                  {"dropped", v.dropped},
                  {"detail", v.detail}});
  j["violations"] = vs;
  return j;
}

std::string GateToJunit(const GateResult& r) {
  checker::JunitSuite suite{.name = "torn gate", .time = r.total_seconds};
  suite.properties = {{"kernel", r.kernel},           {"loop_mode", r.loop_mode},
                      {"inject", r.inject},           {"model", r.model},
                      {"states_possible", r.possible}, {"states_checked", std::to_string(r.checked)}};
  for (const auto& g : r.groups) {
    checker::JunitCase c{.name = GroupName(g), .classname = "torn.gate." + r.loop_mode};
    if (!g.violations.empty()) {
      std::string text;
      size_t states = 0;
      uint64_t last = ~0ull;
      for (const auto& v : g.violations) {
        if (v.state != last) ++states;
        last = v.state;
        text += fmt::format("state {} [{} {}] crash point {} dropped {}: {}\n", v.state, LevelName(v.level),
                            checker::OracleName(v.oracle), v.crash_point, checker::EntryList(v.dropped), v.detail);
      }
      c.failures.push_back(
          {fmt::format("{} of {} states fail ({} violations)", states, g.states, g.violations.size()), "violation",
           text});
    }
    suite.cases.push_back(std::move(c));
  }
  return checker::WriteJunit(suite);
}

}  // namespace torn::gate
