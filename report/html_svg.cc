// The timeline as inline SVG (html.h, section 2). One column per entry, log order left to right; rows
// from the top: entry numbers, marks (names staggered over up to four lines so neighbours stay
// readable), the model's windows (the ones the check covered filled), jbd2 transactions (alternating
// lines, so back-to-back transactions stay apart), barriers (flush entries, FUA writes), one lane per
// region, and the failing states per crash point. Flushes are also drawn as lines across the lanes
// and marks as dashed lines: what happened before and after a barrier reads at a glance.
// Colors live in the page's CSS (classes r0..r9 by region), so the SVG carries no style of its own.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>

#include "report/html.h"
#include "trace/log_format.h"

namespace torn::report {
namespace {

constexpr double kLabelWidth = 150;   // lane names
constexpr double kPlotWidth = 1160;   // what a 1400-pixel window shows beside the names and margins
constexpr double kLaneHeight = 16;
constexpr int kMarkLines = 6;       // marks logged back to back (mkfs, fsync-1, step-1…) stay apart

struct Layout {
  double step = 8;  // pixels per entry
  double X(size_t entry) const { return kLabelWidth + double(entry) * step; }
};

std::string Num(double v) { return fmt::format("{:.1f}", v); }

std::string Title(const std::string& text) { return "<title>" + HtmlEscape(text) + "</title>"; }

// Entry numbers every 1, 2, 5, 10, 20, 50… entries, at least 40 pixels apart.
void Axis(const Layout& l, size_t n, double y, std::string& out) {
  size_t every = 1;
  for (size_t m = 1; every * l.step < 40; m *= 10)
    for (size_t k : {1, 2, 5})
      if (every * l.step < 40) every = k * m;
  for (size_t i = 0; i < n; i += every)
    out += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\">{}</text>", Num(l.X(i) + l.step / 2), Num(y + 11), i);
}

// Window text for a tooltip, with the check's coverage when the run covered it.
std::string WindowTitle(const TimelineWindow& w, const checker::WindowCoverage* c, const Timeline& t) {
  // The model's segment over the whole trace; the run numbers its windows from its first crash point.
  std::string barrier = w.barrier == kNone ? "the start of the trace"
                                           : fmt::format("{} at entry {}", trace::FlagNames(t.entries[w.barrier].flags),
                                                         w.barrier);
  std::string s = fmt::format("entries {}-{}, after {}: {} states possible", w.first, w.last, barrier,
                              ShortCount(w.possible));
  if (c)
    s += fmt::format("\nwindow {} of the check (entries {}-{}): {} generated, {} checked, {} classes, {} states covered",
                     c->segment, c->first, c->last, c->generated, c->checked, c->classes, ShortCount(c->covered));
  else
    s += "\nnot checked by this run";
  return s;
}

std::string EntryTitle(const TimelineEntry& e) {
  std::string s = fmt::format("entry {}: {} {}, bytes {}+{}", e.index, e.discard ? "discard" : "write",
                              trace::FlagNames(e.flags), e.byte_offset, e.bytes);
  s += fmt::format("\nregion: {}", RegionName(e.region));
  if (!e.what.empty()) s += "\n" + e.what;
  if (!e.journal.empty()) s += "\njbd2: " + e.journal;
  return s;
}

}  // namespace

std::string TimelineSvg(const Timeline& t, const checker::CheckResult& r) {
  const size_t n = std::max<size_t>(t.entries.size(), 1);
  Layout l;
  l.step = std::clamp(kPlotWidth / double(n), 3.0, 16.0);
  const double width = l.X(n) + 16;

  // Which lanes: every ext4 region always (the lanes read the same on every trace), "unknown" only
  // when some write has it.
  std::vector<Region> lanes;
  std::map<Region, size_t> counts;
  for (const auto& e : t.entries)
    if (e.write || e.discard) ++counts[e.region];
  for (int i = 0; i < kRegionCount; ++i)
    if (Region(i) != Region::kUnknown || counts.contains(Region::kUnknown)) lanes.push_back(Region(i));

  // Mark names over up to kMarkLines lines: each on the first line where it does not run into the
  // name before it (about 6.6 pixels a character at 11 px bold), else on the line that ends first. A
  // name that would run past the plot's right edge is drawn to the left of its line.
  struct MarkLabel {
    const TimelineEntry* e;
    int line;
    bool left;
  };
  std::vector<MarkLabel> marks;
  std::vector<double> line_end(kMarkLines, -1e9);
  int mark_lines = 1;
  for (const auto& e : t.entries) {
    if (e.mark.empty()) continue;
    double x = l.X(e.index) + l.step / 2, w = 6.6 * double(std::min<size_t>(e.mark.size(), 40)) + 6;
    bool left = x + w > width;
    double start = left ? x - w : x;
    int line = int(std::min_element(line_end.begin(), line_end.end()) - line_end.begin());
    for (int k = 0; k < kMarkLines; ++k)
      if (line_end[k] < start) {
        line = k;
        break;
      }
    line_end[line] = left ? x : x + w;
    mark_lines = std::max(mark_lines, line + 1);
    marks.push_back({&e, line, left});
  }

  const double y_axis = 0, y_marks = 16, y_windows = y_marks + 13.0 * mark_lines + 4, y_jbd2 = y_windows + 20,
               y_barriers = y_jbd2 + 26, y_lanes = y_barriers + 16,
               y_fail = y_lanes + kLaneHeight * double(lanes.size()) + 4, height = y_fail + 40;
  std::string out = fmt::format(
      "<svg id=\"timeline\" role=\"img\" aria-label=\"the trace in log order\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\">\n",
      Num(width), Num(height));

  // Row names, and lane backgrounds with their write counts.
  auto row = [&](double y, const std::string& name) {
    out += fmt::format("<text class=\"rn\" x=\"4\" y=\"{}\">{}</text>", Num(y), HtmlEscape(name));
  };
  row(y_axis + 11, "entry");
  row(y_marks + 11, "marks");
  row(y_windows + 13, "barrier windows");
  row(y_jbd2 + 16, "jbd2 transactions");
  row(y_barriers + 11, "flush / FUA");
  for (size_t k = 0; k < lanes.size(); ++k) {
    double y = y_lanes + kLaneHeight * double(k);
    out += fmt::format("<rect class=\"lane{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", k % 2,
                       Num(kLabelWidth), Num(y), Num(l.X(n) - kLabelWidth), Num(kLaneHeight));
    row(y + 12, fmt::format("{} ({})", RegionName(lanes[k]), counts[lanes[k]]));
  }
  row(y_fail + 14, "failing states");
  row(y_fail + 27, "per crash point");
  out += "\n";
  Axis(l, t.entries.size(), y_axis, out);

  // Before the check's first crash point nothing was judged: grey the lanes there.
  size_t checked_from = t.entries.size();
  for (const auto& w : r.windows) checked_from = std::min(checked_from, w.first);
  if (!r.windows.empty() && checked_from > 0)
    out += fmt::format("<rect class=\"pre\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">{}</rect>\n",
                       Num(kLabelWidth), Num(y_windows), Num(l.X(checked_from) - kLabelWidth),
                       Num(y_fail - y_windows),
                       Title(fmt::format("entries 0-{}: before the check's first crash point{}", checked_from - 1,
                                         r.from_mark ? " (mark '" + *r.from_mark + "')" : "")));

  // Windows, with the run's coverage where a run window lies inside one.
  for (size_t i = 0; i < t.windows.size(); ++i) {
    const TimelineWindow& w = t.windows[i];
    const checker::WindowCoverage* c = nullptr;
    for (const auto& rw : r.windows)
      if (rw.first >= w.first && rw.last <= w.last) c = &rw;
    double x0 = l.X(w.first), x1 = l.X(w.last + 1);
    out += fmt::format("<g class=\"win {}{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\"/>", i % 2 ? "wb" : "wa",
                       c ? " checked" : "", Num(x0), Num(y_windows), Num(std::max(x1 - x0, 1.0)));
    // Named as the coverage table names it (the run's numbering starts at its first crash point).
    std::string label = c ? fmt::format("window {}: {} of {} states covered", c->segment, ShortCount(c->covered),
                                        ShortCount(c->possible))
                          : "not checked";
    if (x1 - x0 > 6.2 * double(label.size()) + 8)
      out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", Num(x0 + 4), Num(y_windows + 12), HtmlEscape(label));
    else if (c && x1 - x0 > 70)
      out += fmt::format("<text x=\"{}\" y=\"{}\">window {}</text>", Num(x0 + 4), Num(y_windows + 12), c->segment);
    out += Title(WindowTitle(w, c, t)) + "</g>\n";
  }

  // jbd2 transactions: from the first block it logged to its commit.
  for (size_t i = 0; i < t.transactions.size(); ++i) {
    const TimelineTransaction& x = t.transactions[i];
    size_t end = x.commit == kNone ? t.entries.size() : x.commit + 1;
    double x0 = l.X(x.first), x1 = l.X(end), y = y_jbd2 + double(i % 2) * 12;
    out += fmt::format("<g class=\"tx{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" rx=\"2\"/>",
                       x.commit == kNone ? " open" : "", Num(x0), Num(y), Num(std::max(x1 - x0, 2.0)));
    if (x1 - x0 > 24) out += fmt::format("<text x=\"{}\" y=\"{}\">T{}</text>", Num(x0 + 3), Num(y + 9), x.sequence);
    out += Title(x.commit == kNone
                     ? fmt::format("transaction {}: blocks from entry {}, never committed in the trace", x.sequence, x.first)
                     : fmt::format("transaction {}: blocks from entry {}, commit block at entry {}", x.sequence,
                                   x.first, x.commit)) +
           "</g>\n";
  }

  // Barriers: a flush entry is a line across the lanes and a bar in its row; a FUA write a triangle.
  for (const auto& e : t.entries) {
    double xc = l.X(e.index) + l.step / 2;
    if (e.flags & trace::kFlagFlush) {
      out += fmt::format("<line class=\"fline\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", Num(xc), Num(y_windows),
                         Num(y_fail));
      out += fmt::format("<rect class=\"fl\" data-e=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\">{}</rect>\n",
                         e.index, Num(xc - 1.5), Num(y_barriers), 3,
                         Title(fmt::format("entry {}: {} (what completed before it is durable)", e.index,
                                           trace::FlagNames(e.flags))));
    }
    if ((e.flags & trace::kFlagFua) && e.write)
      out += fmt::format("<polygon class=\"fu\" data-e=\"{}\" points=\"{},{} {},{} {},{}\">{}</polygon>\n", e.index,
                         Num(xc - 4), Num(y_barriers), Num(xc + 4), Num(y_barriers), Num(xc), Num(y_barriers + 11),
                         Title(fmt::format("entry {}: FUA write (durable when it completed)", e.index)));
  }

  // Marks: a dashed line down the whole plot and the name on its line.
  for (const auto& [e, line, left] : marks) {
    double xc = l.X(e->index) + l.step / 2, y = y_marks + 13.0 * line;
    out += fmt::format(
        "<g class=\"mk\" data-e=\"{0}\"><line x1=\"{1}\" x2=\"{1}\" y1=\"{2}\" y2=\"{3}\"/><text{4} x=\"{5}\" "
        "y=\"{6}\">{7}</text>{8}</g>\n",
        e->index, Num(xc), Num(y + 3), Num(y_fail), left ? " class=\"left\"" : "", Num(left ? xc - 2 : xc + 2),
        Num(y + 11), HtmlEscape(e->mark), Title(fmt::format("entry {}: mark '{}'", e->index, e->mark)));
  }

  // Writes and discards, one element each (html.h rule 3).
  std::map<Region, size_t> lane_of;
  for (size_t k = 0; k < lanes.size(); ++k) lane_of[lanes[k]] = k;
  const double w = std::max(l.step - 1, 1.5);
  for (const auto& e : t.entries) {
    if (!e.write && !e.discard) continue;
    double y = y_lanes + kLaneHeight * double(lane_of[e.region]) + 2;
    std::string cls = fmt::format("{} r{}{}{}", e.write ? "w" : "d", int(e.region), (e.flags & trace::kFlagFua) ? " fua" : "",
                                  e.journal.empty() ? "" : " jb");
    out += fmt::format("<rect class=\"{}\" data-e=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\">{}</rect>\n", cls,
                       e.index, Num(l.X(e.index) + 0.5), Num(y), Num(w), Title(EntryTitle(e)));
  }

  // Failing states per crash point: a grey bar for the states judged there, red for the part failing.
  std::vector<std::pair<size_t, std::string>> mark_names;
  for (const auto& e : t.entries)
    if (!e.mark.empty()) mark_names.emplace_back(e.index, e.mark);
  for (const auto& g : r.groups) {
    if (g.crash_point >= t.entries.size() || g.states == 0) continue;
    std::set<uint64_t> failing;
    std::map<std::string, std::set<uint64_t>> by_oracle;
    for (const auto& v : g.violations) {
      failing.insert(v.state);
      by_oracle[std::string(oracles::OracleName(v.oracle))].insert(v.state);
    }
    std::string after;
    for (const auto& [entry, name] : mark_names)
      if (entry <= g.crash_point) after = fmt::format(" (after mark '{}')", name);
    std::string title = fmt::format("crash point {}{}: {} of {} judged states fail", g.crash_point, after,
                                    failing.size(), g.states);
    for (const auto& [oracle, states] : by_oracle) title += fmt::format("\n  {}: {} states", oracle, states.size());
    double xc = l.X(g.crash_point), hf = 30.0 * double(failing.size()) / double(g.states);
    out += fmt::format("<g class=\"cp\" data-e=\"{}\"><rect class=\"judged\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"30\"/>",
                       g.crash_point, Num(xc), Num(y_fail + 4), Num(std::max(l.step, 3.0)));
    if (!failing.empty())
      out += fmt::format("<rect class=\"failing\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", Num(xc),
                         Num(y_fail + 34 - hf), Num(std::max(l.step, 3.0)), Num(std::max(hf, 1.0)));
    out += Title(title) + "</g>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace torn::report
