// torn check's human report (summary.h): the lists it shortens, the reproduce command it prints, and
// a report of many violations that stays short.
#include "report/summary.h"

#include <gtest/gtest.h>

namespace torn::report {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(Summary, IndexRangesIsTheDropSyntax) {
  EXPECT_EQ(IndexRanges({}), "");
  EXPECT_EQ(IndexRanges({7}), "7");
  EXPECT_EQ(IndexRanges({98, 99}), "98,99");
  EXPECT_EQ(IndexRanges({101, 98, 99, 100, 105, 120, 121, 122}), "98-101,105,120-122");
  EXPECT_EQ(IndexRanges({3, 3, 4}), "3,4");
}

TEST(Summary, ShortEntryListKeepsTheFirstAndCountsTheRest) {
  EXPECT_EQ(ShortEntryList({}), "[]");
  EXPECT_EQ(ShortEntryList({1, 2, 3}, 2), "[1,2,3]");  // one more is shorter printed than counted
  std::vector<size_t> many;
  for (size_t i = 98; i < 138; ++i) many.push_back(i);
  EXPECT_EQ(ShortEntryList(many, 2), "[98,99,…(+38)]");
}

TEST(Summary, ShellQuoteLeavesPlainWordsAlone) {
  EXPECT_EQ(ShellQuote("corpus/ext4-nobarrier"), "corpus/ext4-nobarrier");
  EXPECT_EQ(ShellQuote("my trace"), "'my trace'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("$HOME;rm"), "'$HOME;rm'");
}

TEST(Summary, ReproduceCommandCarriesDropTornAndSize) {
  checker::Violation v{.id = 1, .state = 17, .oracle = oracles::Oracle::kFsck, .crash_point = 241,
              .dropped = {98, 99, 100, 101, 105}, .torn = {{131, {0, 1, 2, 3, 7}}}};
  EXPECT_EQ(ReproduceCommand("t dir", 67108864, v),
            "torn replay 't dir' --to-entry 241 --drop 98-101,105 --torn 131:0-3,7 --device-size 67108864 "
            "--out state.img && e2fsck -E journal_only -y state.img; e2fsck -fn state.img");
  v.oracle = oracles::Oracle::kOrdering;
  v.dropped.clear();
  v.torn.clear();
  EXPECT_EQ(ReproduceCommand("t", 0, v, "/tmp/x.img"), "torn replay t --to-entry 241 --out /tmp/x.img");
}

checker::CheckResult Many(size_t n) {
  checker::CheckResult r;
  r.trace = "corpus/ext4-nobarrier";
  r.model = "fua-barrier";
  r.points = "all";
  r.oracles = {oracles::Oracle::kFsck, oracles::Oracle::kData, oracles::Oracle::kOrdering};
  r.possible = "123456789012345678901234567890";
  r.generated = r.checked = 50;
  r.strategy = "bounded";
  r.from_mark = "mkfs";
  r.from_mark_default = true;
  for (size_t cp = 0; cp < 12; ++cp) r.groups.push_back({100 + cp, 4, {}});
  for (size_t i = 0; i < n; ++i) {
    std::vector<size_t> dropped;
    for (size_t d = 0; d < 40; ++d) dropped.push_back(50 + d);
    checker::Violation v{.id = i + 1, .state = i / 2, .oracle = i % 2 ? oracles::Oracle::kOrdering : oracles::Oracle::kFsck,
                .crash_point = 100 + i % 12, .dropped = dropped, .detail = "e2fsck -fn: exit 4 (Inode 12 ...)"};
    r.violations.push_back(v);
    r.groups[i % 12].violations.push_back(v);
  }
  return r;
}

TEST(Summary, ManyViolationsStayShort) {
  checker::CheckResult r = Many(30);
  std::string t = ResultToText(
      r, {.trace_arg = "corpus/ext4-nobarrier", .image_bytes = 4096, .marks = {{90, "mkfs"}, {101, "step-1"}}});
  EXPECT_NE(t.find("#1 fsck on state 0, crash point 100 (after mark 'mkfs', entry 90)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("#2 ordering on state 0, crash point 101 (mark 'step-1')\n"), std::string::npos) << t;
  EXPECT_NE(t.find("#3 fsck on state 1, crash point 102 (after mark 'step-1', entry 101)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("model fua-barrier, crash points all, from mark 'mkfs' (default)"), std::string::npos) << t;
  EXPECT_NE(t.find("states 123456789012345678901234567890 possible, 50 generated, 50 checked"), std::string::npos) << t;
  EXPECT_NE(t.find("fsck             50       15"), std::string::npos) << t;   // states 0..14
  EXPECT_NE(t.find("ordering         50       15"), std::string::npos) << t;
  EXPECT_NE(t.find("  … 4 more crash points with failing states\n\n"), std::string::npos) << t;
  EXPECT_EQ(Count(t, "\n#"), 10u) << t;
  EXPECT_NE(t.find("dropped 40 entries: [50,51,52,53,54,55,…(+34)]"), std::string::npos) << t;
  EXPECT_NE(t.find("reproduce #1 (state 0)"), std::string::npos) << t;
  EXPECT_NE(t.find("torn replay corpus/ext4-nobarrier --to-entry 100 --drop 50-89 --device-size 4096"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("FAIL: 30 violations in 15 of 50 states"), std::string::npos) << t;
  EXPECT_NE(t.find("20 more not shown: --all"), std::string::npos) << t;
  EXPECT_LT(Count(t, "\n"), 60u) << t;  // 10 violations of 3 lines, the tables, the header

  std::string all = ResultToText(r, {.all = true});
  EXPECT_EQ(Count(all, "\nviolation "), 30u) << all;
  EXPECT_NE(all.find("violation 2: [ordering] state 0 crash point 101 dropped [50,51,"), std::string::npos) << all;
  EXPECT_EQ(all.find("more not shown"), std::string::npos) << all;
  EXPECT_EQ(all.find("reproduce"), std::string::npos) << all;  // no image size given
}

TEST(Summary, NoViolationIsAPass) {
  checker::CheckResult r = Many(0);
  std::string t = ResultToText(r, {});
  EXPECT_NE(t.find("PASS: no violation in 50 states"), std::string::npos) << t;
  EXPECT_EQ(t.find("crash point "), std::string::npos) << t;  // no table of failing crash points
}

}  // namespace
}  // namespace torn::report
