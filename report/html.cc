// The page around the timeline (html.h): header, coverage per window, failing classes per crash point,
// signatures; the CSS and the few lines of JS that make the timeline clickable.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>

#include "models/model.h"
#include "report/html.h"
#include "report/report.h"
#include "report/summary.h"
#include "triage/explain.h"

namespace torn::report {
namespace {

// Region colors follow the lanes top to bottom: metadata warm to cool, the journal violet, data
// green, free grey; RegionCss makes the classes r<Region> from them, for the SVG and the legend.
constexpr const char* kRegionColors[kRegionCount] = {"#d32f2f", "#f57c00", "#fbc02d", "#8d6e63", "#1976d2",
                                                     "#00897b", "#7e57c2", "#66bb6a", "#b0bec5", "#616161"};

constexpr const char* kCss = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header,main{padding:0 24px}
header{background:#20232a;color:#eee;padding:14px 24px}
header h1{font-size:20px;margin:0 0 4px}
header .verdict{font-weight:700;padding:1px 8px;border-radius:3px}
.fail{background:#c62828;color:#fff}.pass{background:#2e7d32;color:#fff}
h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f0f0f0}td.l,th.l{text-align:left}
.scroll{overflow-x:auto;background:#fff;border:1px solid #ddd;padding:6px 0}
svg text{font:11px system-ui,sans-serif;fill:#333}
svg text.rn{font-weight:600}svg text.ax{text-anchor:middle;fill:#777}
.lane0{fill:#f7f7f7}.lane1{fill:#eeeeee}
.pre{fill:#000;fill-opacity:.06;pointer-events:none}
.win rect{stroke:#bbb;stroke-width:.5}.wa rect{fill:#e3ecf7}.wb rect{fill:#d2def0}
.win.checked rect{fill:#9ec5ee}.win.checked.wb rect{fill:#86b5e6}
.tx rect{fill:#b39ddb;stroke:#5e35b1;stroke-width:.6}.tx.open rect{fill:#fff;stroke-dasharray:3 2}
.fline{stroke:#333;stroke-width:1;stroke-opacity:.55}
.fl{fill:#333}.fu{fill:#e65100}
.mk line{stroke:#00838f;stroke-dasharray:3 3;stroke-width:1}.mk text{fill:#00695c;font-weight:600}
.mk text.left{text-anchor:end}
rect.w:hover,rect.d:hover{stroke:#000;stroke-width:1.5}
rect.fua{stroke:#e65100;stroke-width:1.4}
rect.d{fill-opacity:.15;stroke-width:1;stroke-dasharray:2 1}
rect.hl{fill:#ffeb3b !important;stroke:#000;stroke-width:2}
.judged{fill:#cfd8dc}.failing{fill:#c62828}
tr.bad td{background:#fff3f3}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;
 vertical-align:-2px;margin-right:4px;border-radius:2px}
#detail{white-space:pre-wrap;font:12px ui-monospace,monospace;background:#fff;border:1px solid #ddd;
 padding:6px 10px;min-height:3.2em;margin-top:6px}
.note{color:#555;font-size:13px}
.sig{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px 14px;margin:10px 0}
.sig h3{font-size:15px;margin:2px 0 6px}.sig .oracle{background:#eceff1;padding:0 6px;border-radius:3px}
pre{white-space:pre-wrap;word-break:break-all;font:12px ui-monospace,monospace;background:#f5f5f5;
 padding:6px 10px;margin:4px 0}
button{font:12px system-ui,sans-serif;cursor:pointer}
)";

// Click a write, mark or bar: its title in the detail box. A signature's button: its writes marked.
constexpr const char* kJs = R"(
(function(){
  var svg=document.getElementById('timeline'), detail=document.getElementById('detail');
  if(!svg||!detail) return;
  svg.addEventListener('click',function(ev){
    var el=ev.target.closest('[data-e]'); if(!el) return;
    var t=el.querySelector('title'); detail.textContent=t?t.textContent:'entry '+el.getAttribute('data-e');
  });
  var buttons=document.querySelectorAll('button[data-entries]');
  for(var i=0;i<buttons.length;i++) buttons[i].addEventListener('click',function(){
    var want=this.getAttribute('data-entries').split(','), marked=svg.querySelectorAll('.hl');
    for(var k=0;k<marked.length;k++) marked[k].classList.remove('hl');
    var n=0;
    for(var k=0;k<want.length;k++){
      var el=svg.querySelector('rect[data-e="'+want[k]+'"]'); if(el){el.classList.add('hl'); n++;}
    }
    detail.textContent=this.getAttribute('data-what')+': entries '+want.join(', ')+' marked in yellow ('+n+' drawn)';
    svg.scrollIntoView({block:'center'});
  });
})();
)";

std::string RegionCss() {
  std::string css;
  for (int i = 0; i < kRegionCount; ++i)
    css += fmt::format(".r{0}{{fill:{1};stroke:{1}}}.legend .r{0}{{background:{1}}}\n", i, kRegionColors[i]);
  return css;
}

std::string JsonCount(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::string Cell(const std::string& text, bool left = false) {
  return (left ? "<td class=\"l\">" : "<td>") + HtmlEscape(text) + "</td>";
}

// A count cell: short for people, exact in its tooltip.
std::string CountCell(const std::string& decimal) {
  return "<td title=\"" + HtmlEscape(decimal) + "\">" + HtmlEscape(ShortCount(decimal)) + "</td>";
}

// covered / possible as a percentage, exact (both may exceed 64 bits).
std::string Percent(const std::string& covered, const std::string& possible) {
  models::BigCount p(possible), c(covered);
  if (p == 0) return "-";
  models::BigCount hundredths = c * 10000 / p;
  if (hundredths == 0 && c > 0) return "<0.01%";
  unsigned v = hundredths.convert_to<unsigned>();
  return fmt::format("{}.{:02}%", v / 100, v % 100);
}

std::string JoinIndexes(const std::vector<size_t>& v) {
  std::string s;
  for (size_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

void Header(const HtmlReport& rep, std::string& out) {
  const checker::CheckResult& r = rep.result;
  const nlohmann::json j = ResultToJson(r);
  std::string oracles;
  for (auto o : r.oracles) oracles += (oracles.empty() ? "" : ", ") + std::string(oracles::OracleName(o));
  std::set<uint64_t> failing;
  for (const auto& v : r.violations) failing.insert(v.state);
  const auto& s = j["states"];
  out += "<header><h1>torn check " + HtmlEscape(r.trace) + " ";
  out += failing.empty() ? "<span class=\"verdict pass\">PASS</span>"
                         : fmt::format("<span class=\"verdict fail\">FAIL: {} failing states, {} violations</span>",
                                       failing.size(), r.violations.size());
  out += "</h1><div>model " + HtmlEscape(r.model) + ", crash points " + HtmlEscape(r.points);
  if (r.from_mark) out += ", from mark '" + HtmlEscape(*r.from_mark) + "'" + (r.from_mark_default ? " (default)" : "");
  out += ", oracles " + HtmlEscape(oracles) + "</div>";
  out += "<div>states " + HtmlEscape(ShortCount(JsonCount(s["possible"]))) + " possible, " +
         HtmlEscape(JsonCount(s["generated"])) + " generated, " + HtmlEscape(JsonCount(s["checked"])) + " checked";
  if (s.contains("classes"))
    out += ", " + HtmlEscape(JsonCount(s["classes"])) + " classes (" + HtmlEscape(JsonCount(s["judged"])) + " judged)";
  out += ", " + HtmlEscape(ShortCount(JsonCount(s["covered"]))) + " covered (" +
         HtmlEscape(Percent(JsonCount(s["covered"]), JsonCount(s["possible"]))) + ")</div>";
  out += "<div>from " + HtmlEscape(rep.source) + "; strategy: " + HtmlEscape(r.strategy) + "</div></header>\n<main>\n";
  if (!r.beyond_contract.empty()) out += "<p class=\"note\"><b>Beyond the block layer's contract:</b> " + HtmlEscape(r.beyond_contract) + "</p>\n";
  for (const auto& n : r.notes) out += "<p class=\"note\">note: " + HtmlEscape(n) + "</p>\n";
}

void TimelineSection(const HtmlReport& rep, std::string& out) {
  const Timeline& t = rep.timeline;
  out += "<h2 id=\"timeline-h\">The trace in log order</h2>\n";
  out += "<p class=\"note\">One column per entry (log order is completion order). Click a write, mark, barrier or "
         "bar for what it is; hover shows the same. Lines across the lanes are flushes, dashed lines marks; an "
         "orange outline and triangle is a FUA write. Filled windows are those the check covered.</p>\n";
  out += "<div class=\"legend\">";
  for (int i = 0; i < kRegionCount; ++i)
    out += fmt::format("<span><i class=\"r{}\"></i>{}</span>", i,
                       HtmlEscape(RegionName(Region(i))));
  out += "</div>\n<div class=\"scroll\">\n" + TimelineSvg(t, rep.result) + "</div>\n";
  out += "<div id=\"detail\">Click an element of the timeline.</div>\n";
  out += "<p class=\"note\">" + HtmlEscape(t.roles_note) + " jbd2: " + HtmlEscape(t.journal_note) + "</p>\n";
}

void CoverageSection(const checker::CheckResult& r, std::string& out) {
  const nlohmann::json j = ResultToJson(r);  // the same figures torn check --json prints
  out += "<h2>Coverage per window</h2>\n<table><tr><th>window</th><th>entries</th><th>possible</th><th>fixed</th>"
         "<th>generated</th><th>checked</th><th>classes</th><th>covered</th><th>covered / possible</th></tr>\n";
  for (const auto& w : j["windows"]) {
    std::string possible = JsonCount(w["possible"]), covered = JsonCount(w["covered"]);
    out += "<tr>" + Cell(JsonCount(w["segment"])) +
           Cell(fmt::format("{}-{}", w["first"].get<size_t>(), w["last"].get<size_t>())) + CountCell(possible) +
           Cell(JsonCount(w["fixed"])) + Cell(JsonCount(w["generated"])) + Cell(JsonCount(w["checked"])) +
           Cell(JsonCount(w["classes"])) + CountCell(covered) + Cell(Percent(covered, possible)) + "</tr>\n";
  }
  out += "</table>\n<p class=\"note\">fixed: writes the reduction proved cannot change a state's class; covered: "
         "the states the judged classes stand for (docs/checker.md).</p>\n";
}

void CrashPointSection(const HtmlReport& rep, std::string& out) {
  const checker::CheckResult& r = rep.result;
  std::vector<std::pair<size_t, std::string>> marks;
  for (const auto& e : rep.timeline.entries)
    if (!e.mark.empty()) marks.emplace_back(e.index, e.mark);
  out += "<h2>Failing classes per crash point</h2>\n<table><tr><th>crash point</th><th class=\"l\">after mark</th>"
         "<th>states judged</th><th>failing states</th><th>failing classes</th>";
  for (auto o : r.oracles) out += "<th>" + HtmlEscape(oracles::OracleName(o)) + " classes</th>";
  out += "</tr>\n";
  constexpr size_t kRows = 500;
  size_t rows = 0;
  for (const auto& g : r.groups) {
    if (rows++ == kRows) break;
    // A class is a class key; a state without one (no classes) is a class of its own.
    std::set<uint64_t> states;
    std::set<std::string> classes;
    std::map<oracles::Oracle, std::set<std::string>> by_oracle;
    for (const auto& v : g.violations) {
      std::string key = v.class_key.empty() ? "state " + std::to_string(v.state) : v.class_key;
      states.insert(v.state);
      classes.insert(key);
      by_oracle[v.oracle].insert(key);
    }
    std::string mark;
    for (const auto& [entry, name] : marks)
      if (entry <= g.crash_point) mark = name;
    out += std::string(states.empty() ? "<tr>" : "<tr class=\"bad\">") + Cell(std::to_string(g.crash_point)) +
           Cell(mark, true) + Cell(std::to_string(g.states)) + Cell(std::to_string(states.size())) +
           Cell(std::to_string(classes.size()));
    for (auto o : r.oracles) out += Cell(std::to_string(by_oracle[o].size()));
    out += "</tr>\n";
  }
  out += "</table>\n";
  if (r.groups.size() > kRows)
    out += fmt::format("<p class=\"note\">{} more crash points: torn check --json lists every violation.</p>\n",
                       r.groups.size() - kRows);
}

void Signature(const HtmlReport& rep, const triage::SignatureGroup& g, std::string& out) {
  const checker::Violation& v = g.representative;
  out += fmt::format("<section class=\"sig\" id=\"sig-{}\"><h3>#{} <span class=\"oracle\">{}</span> {} states", g.id,
                     g.id, HtmlEscape(oracles::OracleName(g.oracle)), g.states);
  out += HtmlEscape(fmt::format(" (covering {}, {} classes, {} crash point{})", ShortCount(g.covered), g.classes,
                                g.crash_points, g.crash_points == 1 ? "" : "s")) + "</h3>\n";
  out += "<p><b>signature:</b> " + HtmlEscape(g.signature) + "</p>\n";
  out += fmt::format("<p><b>e.g. state {}</b> at crash point {}, {} writes lost: ", v.state, v.crash_point,
                     v.dropped.size() + v.torn.size()) +
         HtmlEscape(v.detail.size() > 600 ? v.detail.substr(0, 600) + "…" : v.detail) + "</p>\n";
  if (g.minimization) {
    const nlohmann::json& m = *g.minimization;
    const size_t size = m.value("minimal", nlohmann::json::array()).size() +
                        m.value("minimal_sectors", nlohmann::json::array()).size();
    std::string how = !m.value("reproduced", false) ? "not reproduced when judged again"
                      : m.value("one_minimal", false) ? "1-minimal"
                                                      : "not 1-minimal: the budget cut it short";
    out += HtmlEscape(fmt::format("minimal set: {} lost → {} ({}; {} tests, {} e2fsck runs, {:.1f} s)",
                                  m.value("lost", size_t{0}), size, how, m.value("tests", uint64_t{0}),
                                  m.value("e2fsck_runs", uint64_t{0}), m.value("seconds", 0.0)));
    std::vector<size_t> minimal;
    for (const auto& e : m.value("minimal", nlohmann::json::array())) minimal.push_back(e.get<size_t>());
    for (const auto& e : m.value("minimal_sectors", nlohmann::json::array())) minimal.push_back(e.value("entry", size_t{0}));
    out += fmt::format(" <button data-entries=\"{}\" data-what=\"#{} minimal set\">mark them on the timeline</button>\n",
                       JoinIndexes(minimal), g.id);
    out += "<ol class=\"writes\">\n";
    for (const auto& ex : m.value("explanation", nlohmann::json::array()))
      out += "<li><pre>" + HtmlEscape(triage::ToText(triage::WriteExplanationFromJson(ex), "", 8)) + "</pre></li>\n";
    out += "</ol>\n";
    if (!m.value("reproduce", std::string()).empty())
      out += "<p><b>reproduce:</b></p><pre>" + HtmlEscape(m["reproduce"].get<std::string>()) + "</pre>\n";
  } else {
    out += "<p class=\"note\">" +
           HtmlEscape(g.note.empty() ? fmt::format("not minimized in this database: torn explain {} --db DB --state {} "
                                                   "minimizes and explains it",
                                                   ShellQuote(rep.trace_arg), v.state)
                                     : g.note) +
           fmt::format(" <button data-entries=\"{}\" data-what=\"#{} lost writes of state {}\">mark its lost writes on "
                       "the timeline</button></p>\n",
                       JoinIndexes(v.dropped), g.id, v.state);
    if (rep.image_bytes)
      out += "<p><b>reproduce:</b></p><pre>" + HtmlEscape(ReproduceCommand(rep.trace_arg, rep.image_bytes, v)) + "</pre>\n";
  }
  out += "</section>\n";
}

void SignatureSection(const HtmlReport& rep, std::string& out) {
  out += "<h2>Signatures</h2>\n";
  if (rep.signatures.empty()) {
    out += "<p class=\"note\">No violation: nothing to group.</p>\n";
    return;
  }
  size_t minimized = 0;
  for (const auto& g : rep.signatures) minimized += g.minimization.has_value();
  out += fmt::format("<p class=\"note\">{} distinct failures (oracle and signature: what failed without the state's "
                     "numbers), most states first; {} minimized in the database (triage/triage.h).</p>\n",
                     rep.signatures.size(), minimized);
  // The index first: a thousand failing states read as a few rows.
  out += "<table><tr><th>#</th><th class=\"l\">oracle</th><th>states</th><th>covered</th><th>classes</th>"
         "<th class=\"l\">signature</th></tr>\n";
  for (const auto& g : rep.signatures) {
    std::string sig = g.signature.size() > 140 ? g.signature.substr(0, 140) + "…" : g.signature;
    out += fmt::format("<tr><td><a href=\"#sig-{0}\">#{0}</a></td>", g.id) + Cell(std::string(oracles::OracleName(g.oracle)), true) +
           Cell(std::to_string(g.states)) + CountCell(g.covered) + Cell(std::to_string(g.classes)) + Cell(sig, true) +
           "</tr>\n";
  }
  out += "</table>\n";
  for (const auto& g : rep.signatures) Signature(rep, g, out);
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ShortCount(const std::string& decimal) {
  if (decimal.size() <= 12 || decimal.find_first_not_of("0123456789") != std::string::npos) return decimal;
  return fmt::format("{}.{}e{}", decimal[0], decimal.substr(1, 2), decimal.size() - 1);
}

std::string RenderHtml(const HtmlReport& rep) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>torn check " +
                    HtmlEscape(rep.result.trace) + "</title>\n<style>" + kCss + RegionCss() + "</style></head><body>\n";
  Header(rep, out);
  TimelineSection(rep, out);
  CoverageSection(rep.result, out);
  CrashPointSection(rep, out);
  SignatureSection(rep, out);
  out += "<p class=\"note\">Written by torn report from " + HtmlEscape(rep.source) +
         ". Everything here is in torn check --json too.</p>\n</main>\n<script>" + kJs + "</script>\n</body></html>\n";
  return out;
}

}  // namespace torn::report
