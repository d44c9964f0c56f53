#include "checker/report.h"

#include <fmt/core.h>

namespace torn::checker {
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

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters; e2fsck output has none, but be safe.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t') out += '?';
        else out += ch;
    }
  }
  return out;
}

nlohmann::json ResultToJson(const CheckResult& r) {
  nlohmann::json j;
  j["trace"] = r.trace;
  j["model"] = r.model;
  j["points"] = r.points;
  j["from_mark"] = r.from_mark ? nlohmann::json(*r.from_mark) : nlohmann::json(nullptr);
  j["from_mark_default"] = r.from_mark_default;
  nlohmann::json oracles = nlohmann::json::array();
  for (Oracle o : r.oracles) oracles.push_back(std::string(OracleName(o)));
  j["oracles"] = oracles;
  j["states"] = {{"possible", CountJson(r.possible)}, {"generated", r.generated}, {"checked", r.checked}};
  j["distinct_images"] = r.distinct_images;
  j["reused_after_replay"] = r.reused_after_replay;
  j["resumed"] = r.resumed;
  j["strategy"] = r.strategy;
  j["budget_cut"] = r.budget_cut;
  j["seconds"] = r.seconds;
  j["notes"] = r.notes;
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : r.violations) {
    nlohmann::json torn = nlohmann::json::array();
    for (const auto& t : v.torn) torn.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
    vs.push_back({{"id", v.id},
                  {"oracle", std::string(OracleName(v.oracle))},
                  {"state", v.state},
                  {"crash_point", v.crash_point},
                  {"dropped", v.dropped},
                  {"torn", torn},
                  {"detail", v.detail}});
  }
  j["violations"] = vs;
  return j;
}

std::string ResultToJunit(const CheckResult& r) {
  size_t failures = 0;
  for (const auto& g : r.groups) failures += !g.violations.empty();
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites>\n<testsuite name=\"torn check\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                   "time=\"{:.3f}\">\n",
                   r.groups.size(), failures, r.seconds);
  x += fmt::format("  <properties><property name=\"trace\" value=\"{}\"/><property name=\"model\" "
                   "value=\"{}\"/><property name=\"states_possible\" value=\"{}\"/></properties>\n",
                   XmlEscape(r.trace), XmlEscape(r.model), r.possible);
  for (const auto& g : r.groups) {
    x += fmt::format("  <testcase classname=\"torn.{}\" name=\"crash point {}\">", XmlEscape(r.model),
                     g.crash_point);
    if (g.violations.empty()) {
      x += "</testcase>\n";
      continue;
    }
    std::string text;
    for (const auto& v : g.violations)
      text += fmt::format("state {} [{}] dropped {}: {}\n", v.state, OracleName(v.oracle),
                          EntryList(v.dropped), v.detail);
    x += fmt::format("\n    <failure message=\"{} violations in {} states at crash point {}\" "
                     "type=\"violation\">{}</failure>\n  </testcase>\n",
                     g.violations.size(), g.states, g.crash_point, XmlEscape(text));
  }
  x += "</testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace torn::checker
