// RenderHtml on a synthetic result and timeline (no trace, no database): every write is one rect.w
// with its entry; text from outside is escaped wherever it lands; the page names nothing outside
// itself; coverage, crash points and signatures carry the result's figures.
#include <gtest/gtest.h>

#include <regex>

#include "report/html.h"

namespace torn::report {
namespace {

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

constexpr const char* kEvil = "<script>alert('x')</script>&\"";

HtmlReport Synthetic() {
  HtmlReport rep;
  checker::CheckResult& r = rep.result;
  r.trace = std::string("traces/") + kEvil;
  r.model = "fua-barrier";
  r.points = "all";
  r.oracles = {oracles::Oracle::kFsck, oracles::Oracle::kOrdering};
  r.possible = "1208925819614629174706176";
  r.generated = 3;
  r.checked = 3;
  r.covered = "3";
  r.strategy = "exhaustive";
  r.from_mark = "mkfs";
  r.windows.push_back({.segment = 0, .first = 3, .last = 7, .possible = "1208925819614629174706176", .covered = "3",
                       .fixed = 1, .generated = 3, .checked = 3, .classes = 2});
  checker::Violation v{.id = 1, .state = 2, .oracle = oracles::Oracle::kFsck, .crash_point = 7, .dropped = {4, 6},
                       .detail = std::string("e2fsck: ") + kEvil, .class_key = "ab", .signature = "sig <b>"};
  r.violations = {v};
  r.groups.push_back({.crash_point = 7, .states = 3, .violations = {v}});

  Timeline& t = rep.timeline;
  auto entry = [&](uint64_t flags, bool write, Region region) {
    TimelineEntry e{.index = t.entries.size(), .flags = flags, .byte_offset = 1024 * t.entries.size(), .bytes = 1024,
                    .write = write, .region = region, .what = "block 1: super block of group 0"};
    t.entries.push_back(e);
  };
  entry(0, true, Region::kSuperBlock);                 // 0
  entry(trace::kFlagFlush, false, Region::kUnknown);   // 1
  entry(trace::kFlagMark, false, Region::kUnknown);    // 2: the mark
  t.entries[2].mark = kEvil;
  entry(trace::kFlagMetadata, true, Region::kJournal);  // 3
  t.entries[3].journal = "descriptor block of transaction 2";
  entry(0, true, Region::kInodeTable);                  // 4
  entry(trace::kFlagFua | trace::kFlagMetadata, true, Region::kJournal);  // 5: commit
  entry(0, true, Region::kFileData);                    // 6
  entry(trace::kFlagMark, false, Region::kUnknown);     // 7
  t.entries[7].mark = "end";
  t.windows = {{.segment = 0, .barrier = kNone, .first = 0, .last = 1, .possible = "4"},
               {.segment = 1, .barrier = 1, .first = 2, .last = 7, .possible = "32"}};
  t.transactions = {{.sequence = 2, .first = 3, .commit = 5}};
  t.roles_note = "roles <of the end>";

  triage::SignatureGroup g{.id = 1, .oracle = oracles::Oracle::kFsck, .signature = "sig <b>", .states = 1,
                           .covered = "1", .classes = 1, .crash_points = 1, .representative = v};
  g.minimization = nlohmann::json{{"state", 2},       {"lost", 2},         {"minimal", {4}}, {"minimal_sectors", nlohmann::json::array()},
                                  {"reproduced", true}, {"one_minimal", true}, {"tests", 3},   {"e2fsck_runs", 2},
                                  {"seconds", 0.1},     {"reproduce", std::string("torn replay ") + kEvil},
                                  {"explanation", nlohmann::json::array()}};
  rep.signatures = {g};
  rep.source = std::string("db/") + kEvil + ", run 1";
  rep.trace_arg = r.trace;
  return rep;
}

TEST(HtmlReportSynthetic, OneRectPerWriteWithItsEntry) {
  std::string page = RenderHtml(Synthetic());
  EXPECT_EQ(Count(page, "<rect class=\"w "), 5u);
  for (const char* e : {"data-e=\"0\"", "data-e=\"3\"", "data-e=\"4\"", "data-e=\"5\"", "data-e=\"6\""})
    EXPECT_NE(page.find(e), std::string::npos) << e;
  // The FUA commit is outlined and flagged in the barrier row; the flush is a line and a bar.
  EXPECT_NE(page.find("class=\"w r6 fua\" data-e=\"5\""), std::string::npos);
  EXPECT_EQ(Count(page, "<polygon class=\"fu\""), 1u);
  EXPECT_EQ(Count(page, "<rect class=\"fl\""), 1u);
  EXPECT_EQ(Count(page, "<g class=\"mk\""), 2u);
  EXPECT_EQ(Count(page, "<g class=\"tx\""), 1u);
  EXPECT_NE(page.find(">T2<"), std::string::npos);
  // The second window holds the run's window: filled as checked.
  EXPECT_EQ(Count(page, "<g class=\"win wb checked\""), 1u);
  EXPECT_EQ(Count(page, "<g class=\"win wa\""), 1u);
}

TEST(HtmlReportSynthetic, EscapesEverythingFromOutside) {
  std::string page = RenderHtml(Synthetic());
  // The only <script> is the page's own; every outside text came through escaped.
  EXPECT_EQ(Count(page, "<script>"), 1u);
  EXPECT_EQ(page.find("alert('x')"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"), std::string::npos);
  EXPECT_EQ(page.find("sig <b>"), std::string::npos);
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST(HtmlReportSynthetic, LoadsNothingFromOutside) {
  std::string page = RenderHtml(Synthetic());
  // Links only to the page's own fragments (the signature index).
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(src\s*=|href\s*=\s*"[^#])"))) << "the page must be self-contained";
  EXPECT_NE(page.find("href=\"#sig-1\""), std::string::npos);
  EXPECT_EQ(page.find("http"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
}

TEST(HtmlReportSynthetic, CoverageCrashPointsSignatures) {
  std::string page = RenderHtml(Synthetic());
  // Window 0 of the run: entries 3-7, 1.21e24 possible (exact in the tooltip), 3 covered, 2 classes.
  EXPECT_NE(page.find("<td>3-7</td>"), std::string::npos);
  EXPECT_NE(page.find("title=\"1208925819614629174706176\">1.20e24</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>&lt;0.01%</td>"), std::string::npos);
  // Crash point 7, after mark 'end': 3 judged, 1 failing state, 1 failing class, fsck 1, ordering 0.
  EXPECT_NE(page.find("<tr class=\"bad\"><td>7</td><td class=\"l\">end</td><td>3</td><td>1</td><td>1</td><td>1</td>"
                      "<td>0</td></tr>"),
            std::string::npos);
  // The signature with its minimal set, the button that marks it, the reproduce command.
  EXPECT_NE(page.find("minimal set: 2 lost → 1 (1-minimal; 3 tests, 2 e2fsck runs, 0.1 s)"), std::string::npos);
  EXPECT_NE(page.find("data-entries=\"4\""), std::string::npos);
  EXPECT_NE(page.find("torn replay &lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("FAIL: 1 failing states, 1 violations"), std::string::npos);
}

TEST(HtmlReportSynthetic, ShortCounts) {
  EXPECT_EQ(ShortCount("300"), "300");
  EXPECT_EQ(ShortCount("999999999999"), "999999999999");
  EXPECT_EQ(ShortCount("1208925819614629174706176"), "1.20e24");
  EXPECT_EQ(ShortCount("not a number"), "not a number");
}

}  // namespace
}  // namespace torn::report
