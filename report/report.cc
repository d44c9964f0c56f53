#include "report/report.h"

#include <fmt/core.h>

#include "report/junit.h"

namespace torn::report {
std::string EntryList(const std::vector<size_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

nlohmann::json CountJson(const std::string& decimal) {
  if (decimal.size() < 20 || (decimal.size() == 20 && decimal <= "18446744073709551615"))
    return std::stoull(decimal);
  return decimal;
}

nlohmann::json ResultToJson(const checker::CheckResult& r) {
  nlohmann::json j;
  j["trace"] = r.trace;
  j["model"] = r.model;
  j["beyond_contract"] = r.beyond_contract.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.beyond_contract);
  j["points"] = r.points;
  j["from_mark"] = r.from_mark ? nlohmann::json(*r.from_mark) : nlohmann::json(nullptr);
  j["from_mark_default"] = r.from_mark_default;
  nlohmann::json oracles = nlohmann::json::array();
  for (oracles::Oracle o : r.oracles) oracles.push_back(std::string(oracles::OracleName(o)));
  j["oracles"] = oracles;
  if (!r.shard.empty()) j["shard"] = r.shard;
  j["states"] = {{"possible", CountJson(r.possible)}, {"generated", r.generated}, {"checked", r.checked}};
  if (r.reduced) {
    j["states"]["classes"] = CountJson(r.classes);
    j["states"]["judged"] = CountJson(r.judged);
  }
  j["states"]["covered"] = CountJson(r.covered);
  j["classes"] = r.reduced;
  j["reductions"] = r.reductions;
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : r.windows)
    windows.push_back({{"segment", w.segment},
                       {"first", w.first},
                       {"last", w.last},
                       {"possible", CountJson(w.possible)},
                       {"fixed", w.fixed},
                       {"generated", w.generated},
                       {"checked", w.checked},
                       {"classes", w.classes},
                       {"covered", CountJson(w.covered)}});
  j["windows"] = windows;
  if (r.verified) j["verified"] = r.verified;
  j["distinct_images"] = r.distinct_images;
  j["reused_after_replay"] = r.reused_after_replay;
  if (r.mount_boots) j["mount_boots"] = r.mount_boots;
  j["resumed"] = r.resumed;
  j["strategy"] = r.strategy;
  j["budget_cut"] = r.budget_cut;
  j["seconds"] = r.seconds;
  j["notes"] = r.notes;
  if (!r.match.regex.empty())
    j["match"] = {{"regex", r.match.regex},
                  {"kept_states", r.match.kept_states},
                  {"filtered_states", r.match.filtered_states},
                  {"filtered_violations", r.match.filtered_violations}};
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : r.violations) {
    nlohmann::json torn = nlohmann::json::array();
    for (const auto& t : v.torn) torn.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
    vs.push_back({{"id", v.id},
                  {"oracle", std::string(oracles::OracleName(v.oracle))},
                  {"state", v.state},
                  {"crash_point", v.crash_point},
                  {"dropped", v.dropped},
                  {"torn", torn},
                  {"covers", CountJson(v.covers)},
                  {"detail", v.detail},
                  {"signature", v.signature}});
    if (!v.class_key.empty()) vs.back()["class"] = v.class_key;
  }
  j["violations"] = vs;
  return j;
}

std::string ResultToJunit(const checker::CheckResult& r) {
  JunitSuite suite{.name = "torn check", .time = r.seconds};
  suite.properties = {{"trace", r.trace},           {"model", r.model},
                      {"states_possible", r.possible}, {"states_covered", r.covered},
                      {"classes", r.reduced ? r.classes : "off"}};
  for (const auto& line : r.reductions) suite.properties.push_back({"reduction", line});
  for (const auto& g : r.groups) {
    JunitCase c{.name = fmt::format("crash point {}", g.crash_point), .classname = "torn." + r.model};
    if (!g.violations.empty()) {
      std::string text;
      for (const auto& v : g.violations)
        text += fmt::format("state {} [{}] dropped {}{}: {}\n", v.state, oracles::OracleName(v.oracle), EntryList(v.dropped),
                            v.covers == "1" ? "" : fmt::format(" (stands for {} states of its class)", v.covers), v.detail);
      c.failures.push_back({fmt::format("{} violations in {} states at crash point {}", g.violations.size(),
                                        g.states, g.crash_point),
                            "violation", text});
    }
    suite.cases.push_back(std::move(c));
  }
  return WriteJunit(suite);
}

}  // namespace torn::report
