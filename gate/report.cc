#include "gate/report.h"

#include <fmt/core.h>

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
  using checker::XmlEscape;
  size_t failures = 0;
  for (const auto& g : r.groups) failures += !g.violations.empty();
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites>\n<testsuite name=\"torn gate\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                   "time=\"{:.3f}\">\n",
                   r.groups.size(), failures, r.total_seconds);
  x += fmt::format("  <properties><property name=\"kernel\" value=\"{}\"/><property name=\"loop_mode\" "
                   "value=\"{}\"/><property name=\"inject\" value=\"{}\"/><property name=\"model\" "
                   "value=\"{}\"/><property name=\"states_possible\" value=\"{}\"/><property "
                   "name=\"states_checked\" value=\"{}\"/></properties>\n",
                   XmlEscape(r.kernel), r.loop_mode, r.inject, r.model, r.possible, r.checked);
  for (const auto& g : r.groups) {
    x += fmt::format("  <testcase classname=\"torn.gate.{}\" name=\"{}\">", r.loop_mode, XmlEscape(GroupName(g)));
    if (g.violations.empty()) {
      x += "</testcase>\n";
      continue;
    }
    std::string text;
    size_t states = 0;
    uint64_t last = ~0ull;
    for (const auto& v : g.violations) {
      if (v.state != last) ++states;
      last = v.state;
      text += fmt::format("state {} [{} {}] crash point {} dropped {}: {}\n", v.state, LevelName(v.level),
                          checker::OracleName(v.oracle), v.crash_point, checker::EntryList(v.dropped), v.detail);
    }
    x += fmt::format("\n    <failure message=\"{} of {} states fail ({} violations)\" type=\"violation\">{}"
                     "</failure>\n  </testcase>\n",
                     states, g.states, g.violations.size(), XmlEscape(text));
  }
  x += "</testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace torn::gate
