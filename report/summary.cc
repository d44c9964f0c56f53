#include "report/summary.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include <fmt/core.h>

#include "report/report.h"

namespace torn::report {
namespace {

// Distinct states with a violation, overall and per oracle.
struct Failing {
  std::set<uint64_t> any;
  std::map<oracles::Oracle, std::set<uint64_t>> by_oracle;
  void Add(const checker::Violation& v) {
    any.insert(v.state);
    by_oracle[v.oracle].insert(v.state);
  }
  size_t Of(oracles::Oracle o) const {
    auto it = by_oracle.find(o);
    return it == by_oracle.end() ? 0 : it->second.size();
  }
};

std::string Plural(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// "entry 99 sectors 1; entry 133 sectors 0-3,7": the first `keep` torn writes and how many more.
std::string TornList(const std::vector<models::TornWrite>& torn, size_t keep = SIZE_MAX) {
  std::string s;
  for (size_t i = 0; i < torn.size() && i < keep; ++i) {
    std::vector<size_t> sectors(torn[i].sectors.begin(), torn[i].sectors.end());
    s += fmt::format("{}entry {} sectors {}", i ? "; " : "", torn[i].entry, IndexRanges(sectors));
  }
  if (torn.size() > keep) s += fmt::format("; …(+{} torn entries)", torn.size() - keep);
  return s;
}

void Header(const checker::CheckResult& r, std::string& out) {
  out += fmt::format("torn check {}\n", r.trace);
  std::string from = r.from_mark ? fmt::format("from mark '{}'{}", *r.from_mark, r.from_mark_default ? " (default)" : "")
                                 : "from the start of the trace";
  out += fmt::format("  model {}, crash points {}, {}\n", r.model, r.points.empty() ? "all" : r.points, from);
  if (!r.beyond_contract.empty()) out += fmt::format("  {}\n", r.beyond_contract);
  std::string oracles;
  for (oracles::Oracle o : r.oracles) oracles += (oracles.empty() ? "" : ", ") + std::string(oracles::OracleName(o));
  out += fmt::format("  oracles {}\n", oracles.empty() ? "none" : oracles);
  if (!r.shard.empty())
    out += fmt::format("  shard {}: this run's part of the check (torn merge joins the shards)\n", r.shard);
  out += fmt::format("  states {} possible, {} generated, {} checked ({})\n", r.possible, r.generated, r.checked,
                     r.strategy);
  if (r.reduced)
    out += fmt::format("  classes {} (judged {}), states covered {}{}\n", r.classes, r.judged, r.covered,
                       r.covered == r.possible ? ": every legal state" : "");
  for (const auto& line : r.reductions) out += fmt::format("  {}\n", line);
  out += fmt::format("  {} distinct images judged{}{}{}, {:.1f} s\n", r.distinct_images,
                     r.reused_after_replay
                         ? fmt::format(" ({} the same as another after journal replay)", r.reused_after_replay)
                         : "",
                     r.mount_boots ? fmt::format(", {} lab VM boots for the mount oracle", r.mount_boots) : "",
                     r.resumed ? fmt::format(", {} states resumed from the database", r.resumed) : "", r.seconds);
  if (r.budget_cut) out += "  the time budget ran out before every generated state was checked\n";
  for (const auto& n : r.notes) out += fmt::format("  note: {}\n", n);
  if (!r.match.regex.empty())
    out += fmt::format("  --match '{}': {} failing states kept; {} filtered out ({} failed verdicts judged and stored, "
                       "their output does not match)\n",
                       r.match.regex, r.match.kept_states, r.match.filtered_states, r.match.filtered_violations);
}

// " (after mark 'step-3', entry 170)" for a crash point, or nothing before the first mark.
std::string AfterMark(const SummaryOptions& o, size_t crash_point) {
  auto it = std::upper_bound(o.marks.begin(), o.marks.end(), crash_point,
                             [](size_t cp, const auto& m) { return cp < m.first; });
  if (it == o.marks.begin()) return "";
  --it;
  return it->first == crash_point ? fmt::format(" (mark '{}')", it->second)
                                  : fmt::format(" (after mark '{}', entry {})", it->second, it->first);
}

// Per window, with --all: what each allows and what its judged states cover.
void Windows(const checker::CheckResult& r, std::string& out) {
  out += fmt::format("\n{:>7} {:>13} {:>24} {:>6} {:>9} {:>8} {:>8} {:>24}\n", "window", "entries", "possible", "fixed",
                     "generated", "checked", "classes", "covered");
  for (const auto& w : r.windows)
    out += fmt::format("{:>7} {:>13} {:>24} {:>6} {:>9} {:>8} {:>8} {:>24}\n", w.segment,
                       w.first > w.last ? "-" : fmt::format("{}..{}", w.first, w.last), w.possible, w.fixed,
                       w.generated, w.checked, w.classes, w.covered);
}

void Table(const checker::CheckResult& r, const SummaryOptions& o, std::string& out) {
  Failing all;
  for (const auto& v : r.violations) all.Add(v);
  out += fmt::format("\n{:<10} {:>8} {:>8}\n", "oracle", "checked", "failing");
  for (oracles::Oracle x : r.oracles) out += fmt::format("{:<10} {:>8} {:>8}\n", oracles::OracleName(x), r.checked, all.Of(x));

  // Crash points: the ones with the most failing states first.
  struct Row {
    const checker::CrashPointGroup* g;
    Failing f;
  };
  std::vector<Row> rows;
  for (const auto& g : r.groups) {
    if (g.violations.empty()) continue;
    Row row{&g, {}};
    for (const auto& v : g.violations) row.f.Add(v);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return;
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.f.any.size() > b.f.any.size(); });
  out += fmt::format("\n{:>11} {:>7} {:>8}", "crash point", "states", "failing");
  for (oracles::Oracle x : r.oracles) out += fmt::format(" {:>8}", oracles::OracleName(x));
  out += "\n";
  size_t n = std::min(rows.size(), o.table_rows);
  for (size_t i = 0; i < n; ++i) {
    out += fmt::format("{:>11} {:>7} {:>8}", rows[i].g->crash_point, rows[i].g->states, rows[i].f.any.size());
    for (oracles::Oracle x : r.oracles) out += fmt::format(" {:>8}", rows[i].f.Of(x));
    out += AfterMark(o, rows[i].g->crash_point) + "\n";
  }
  size_t clean = r.groups.size() - rows.size();
  if (rows.size() > n) out += fmt::format("  … {} more crash points with failing states\n", rows.size() - n);
  if (clean) out += fmt::format("  ({} crash points without failing states)\n", clean);
}

void OneLine(const checker::Violation& v, std::string& out) {
  out += fmt::format("violation {}: [{}] state {} crash point {} dropped {}{}: {}\n", v.id, oracles::OracleName(v.oracle),
                     v.state, v.crash_point, EntryList(v.dropped), v.torn.empty() ? "" : " torn " + TornList(v.torn),
                     v.detail);
}

void Readable(const checker::Violation& v, const SummaryOptions& o, std::string& out) {
  out += fmt::format("#{} {} on state {}, crash point {}{}\n", v.id, oracles::OracleName(v.oracle), v.state, v.crash_point,
                     AfterMark(o, v.crash_point));
  if (v.dropped.empty())
    out += "    nothing dropped (the log replayed through the crash point)\n";
  else
    out += fmt::format("    dropped {}: {}\n", Plural(v.dropped.size(), "entry", "entries"), ShortEntryList(v.dropped));
  if (!v.torn.empty())
    out += fmt::format("    {} torn (only these sectors landed): {}\n", Plural(v.torn.size(), "entry", "entries"),
                       TornList(v.torn, 4));
  if (v.covers != "1") out += fmt::format("    stands for {} states of its class ({})\n", v.covers, v.class_key);
  out += fmt::format("    {}\n", v.detail);
}

// What to run on the rebuilt image to see the oracle's verdict.
std::string OracleCheck(oracles::Oracle o, const std::string& img) {
  switch (o) {
    case oracles::Oracle::kFsck: return fmt::format("e2fsck -E journal_only -y {0}; e2fsck -fn {0}", img);
    default: return "";
  }
}

}  // namespace

std::string IndexRanges(std::vector<size_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + std::to_string(v[i]);
    if (j > i) s += (j == i + 1 ? "," : "-") + std::to_string(v[j]);
    i = j + 1;
  }
  return s;
}

std::string ShortEntryList(const std::vector<size_t>& v, size_t keep) {
  if (v.size() <= keep + 1) return EntryList(v);
  std::string s = "[";
  for (size_t i = 0; i < keep; ++i) s += std::to_string(v[i]) + ",";
  return s + fmt::format("…(+{})]", v.size() - keep);
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ReproduceCommand(const std::string& trace, uint64_t image_bytes, const checker::Violation& v,
                             const std::string& image) {
  std::string img = ShellQuote(image);
  std::string cmd = fmt::format("torn replay {} --to-entry {}", ShellQuote(trace), v.crash_point);
  if (!v.dropped.empty()) cmd += " --drop " + IndexRanges(v.dropped);
  for (const auto& w : v.torn)
    cmd += fmt::format(" --torn {}:{}", w.entry, IndexRanges(std::vector<size_t>(w.sectors.begin(), w.sectors.end())));
  if (image_bytes) cmd += fmt::format(" --device-size {}", image_bytes);
  cmd += " --out " + img;
  if (std::string check = OracleCheck(v.oracle, img); !check.empty()) cmd += " && " + check;
  return cmd;
}

std::string ResultToText(const checker::CheckResult& r, const SummaryOptions& o) {
  std::string out;
  Header(r, out);
  if (o.all && r.reduced) Windows(r, out);
  Table(r, o, out);
  std::set<uint64_t> failing;
  for (const auto& v : r.violations) failing.insert(v.state);
  if (r.violations.empty()) {
    if (r.reduced && r.covered != std::to_string(r.checked))
      out += fmt::format("\nPASS: no violation in {} states ({} judged, {} classes)\n", r.covered,
                         r.checked, r.classes);
    else
      out += fmt::format("\nPASS: no violation in {}\n", Plural(r.checked, "state", "states"));
    return out;
  }
  out += "\n";
  const size_t listed_from = out.size();
  size_t n = o.all ? r.violations.size() : std::min(r.violations.size(), o.shown);
  if (!o.all && o.signatures_explained) n = 0;  // the explained signatures stand for them
  for (size_t i = 0; i < n; ++i) {
    if (o.all) OneLine(r.violations[i], out);
    else Readable(r.violations[i], o, out);
  }
  if (o.image_bytes && !o.signatures_explained) {
    // The first fsck violation shows a failure by itself; other oracles need more than e2fsck.
    auto it = std::find_if(r.violations.begin(), r.violations.end(),
                           [](const checker::Violation& v) { return v.oracle == oracles::Oracle::kFsck; });
    const checker::Violation& v = it != r.violations.end() ? *it : r.violations.front();
    out += fmt::format("\nreproduce #{} (state {}): rebuild its image and check it by hand\n", v.id, v.state);
    out += "  " + ReproduceCommand(o.trace_arg.empty() ? r.trace : o.trace_arg, o.image_bytes, v) + "\n";
    if (v.oracle == oracles::Oracle::kOrdering)
      out += "  (the ordering oracle judges the trace's write order, not the image: e2fsck may pass on it)\n";
    else if (v.oracle == oracles::Oracle::kData)
      out += "  (the data oracle: mount the image after journal replay and compare with the manifest)\n";
    else if (v.oracle == oracles::Oracle::kMount)
      out += "  (the mount oracle: mount -o loop the image, in a VM, then e2fsck -fn)\n";
  }
  if (!o.signatures.empty()) out += (out.size() > listed_from ? "\n" : "") + o.signatures;
  std::string standing;
  if (r.reduced && r.covered != std::to_string(r.checked)) {
    std::map<uint64_t, std::string> covers;  // failing state -> the states it stands for
    for (const auto& v : r.violations) covers[v.state] = v.covers;
    models::BigCount failing_covered = 0;
    for (const auto& [state, n] : covers) failing_covered += models::BigCount(n);
    standing = fmt::format(" judged, standing for {} of the {} states covered", failing_covered.str(), r.covered);
  }
  out += fmt::format("\nFAIL: {} in {} of {}{}\n", Plural(r.violations.size(), "violation", "violations"),
                     failing.size(), Plural(r.checked, "state", "states"), standing);
  if (!r.beyond_contract.empty()) out += fmt::format("({})\n", r.beyond_contract);
  if (n < r.violations.size())
    out += fmt::format("{} {}: --all lists every one, --json / --junit FILE / --db FILE keep them all\n",
                       r.violations.size() - n, n ? "more not shown" : "violations not listed one by one");
  return out;
}

}  // namespace torn::report
