#include "triage/text.h"

#include <fmt/core.h>

namespace torn::triage {
namespace {

// A signature on one line of the list: cut at `width` characters.
std::string Cut(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  size_t n = width - 1;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 sequence
  return s.substr(0, n) + "…";
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

std::string MinimizationText(const nlohmann::json& m, const std::string& indent, size_t writes, bool compact) {
  std::string out;
  const size_t lost = m.value("lost", size_t{0});
  const size_t size = m["minimal"].size() + m["minimal_sectors"].size();
  std::string how;
  if (!m.value("reproduced", false)) how = "not reproduced: the state did not fail the same way when judged again";
  else if (m.value("one_minimal", false)) how = "1-minimal";
  else how = "not 1-minimal: the budget cut it short";
  const uint64_t boots = m.value("boots", uint64_t{0});
  out += fmt::format("{}state {}: {} lost → {} ({}; {} tests, {} e2fsck runs{}, {:.1f} s)\n", indent,
                     m.value("state", uint64_t{0}), lost, size, how, m.value("tests", uint64_t{0}),
                     m.value("e2fsck_runs", uint64_t{0}), boots ? fmt::format(", {} VM boots", boots) : "",
                     m.value("seconds", 0.0));
  if (size == 0 && m.value("reproduced", false))
    out += indent + "  it fails with nothing lost: the crash point's own state fails\n";
  const auto& ex = m["explanation"];
  for (size_t k = 0; k < ex.size() && k < writes; ++k) {
    WriteExplanation w = WriteExplanationFromJson(ex[k]);
    out += compact ? indent + "  " + CompactText(w) + "\n" : ToText(w, indent + "  ");
  }
  if (ex.size() > writes) out += fmt::format("{}  … {} more writes (torn explain, or --json)\n", indent, ex.size() - writes);
  if (m.contains("reproduce") && !m["reproduce"].get<std::string>().empty())
    out += fmt::format("{}  reproduce: {}\n", indent, m["reproduce"].get<std::string>());
  return out;
}

std::string ToText(const Triage& t, const TextOptions& o) {
  std::string out;
  if (t.groups.empty()) return out;
  out += fmt::format("signatures: {} in {} failing {}\n",
                     Plural(t.groups.size(), "distinct failure", "distinct failures"), t.failing_states,
                     t.failing_states == 1 ? "state" : "states");
  size_t listed = o.all ? t.groups.size() : std::min(t.groups.size(), o.listed);
  for (size_t i = 0; i < listed; ++i) {
    const SignatureGroup& g = t.groups[i];
    std::string counts = Plural(g.states, "state", "states");
    if (g.covered != std::to_string(g.states)) counts += fmt::format(" (covering {})", g.covered);
    out += fmt::format("  #{:<3} {:<8} {:>6}  {}\n", g.id, oracles::OracleName(g.oracle), counts,
                       o.all ? g.signature : Cut(g.signature, 96));
  }
  if (listed < t.groups.size())
    out += fmt::format("  … {} more signatures (--all lists them; --json and --db keep them)\n", t.groups.size() - listed);
  for (const SignatureGroup& g : t.groups) {
    if (!g.minimization && g.note.empty()) continue;
    out += fmt::format("\n#{} {}, e.g. {}\n", g.id, oracles::OracleName(g.oracle),
                       o.all ? g.representative.detail : Cut(g.representative.detail, 130));
    if (g.minimization) out += MinimizationText(*g.minimization, "  ", o.all ? SIZE_MAX : o.writes, true);
    else out += "  " + g.note + "\n";
  }
  if (t.budget_cut) out += "(the time budget stopped minimizing: --minimize-time raises it)\n";
  return out;
}

}  // namespace torn::triage
