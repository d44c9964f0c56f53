// The gate's parts that need no VM: option names, the workload's preamble, the split of manifests by
// the key convention, the JSON and JUnit reports of a result (one test case per segment, failing
// states listed with their level and dropped entries, the coverage), and the two-level check by
// classes on a recorded gate-style trace (corpus/ext4-on-loop-on-ext4, real e2fsck at both levels):
// every lower state covered, and every state judged without classes lies in a judged class with the
// same verdicts.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "gate/check.h"
#include "gate/gate.h"
#include "gate/report.h"
#include "gate/workload.h"
#include "models/model.h"
#include "trace/expectations.h"

namespace torn::gate {
namespace {

TEST(Gate, ParsesOptionNames) {
  EXPECT_EQ(ParseLoopMode("direct").value(), LoopMode::kDirect);
  EXPECT_EQ(ParseLoopMode("buffered").value(), LoopMode::kBuffered);
  EXPECT_EQ(ParseLoopMode("dio").status().code(), Code::kBadInput);
  EXPECT_EQ(ParseInject("outer-nobarrier").value(), Inject::kOuterNoBarrier);
  EXPECT_EQ(ParseInject("inner-nobarrier").value(), Inject::kInnerNoBarrier);
  EXPECT_EQ(ParseInject("all").status().code(), Code::kBadInput);
  EXPECT_EQ(ParseOuterFs("xfs").value(), OuterFs::kXfs);
  EXPECT_EQ(ParseOuterFs("ntfs").status().code(), Code::kBadInput);
}

TEST(Gate, PreambleCarriesLoopModeAndInjection) {
  GateOptions o;
  std::string p = WorkloadPreamble(o);
  EXPECT_NE(p.find("BACKING=\"$MNT/inner.img\""), std::string::npos) << p;
  EXPECT_NE(p.find("LOOP_OPTS=\"\""), std::string::npos) << p;
  EXPECT_NE(p.find("INNER_MOUNT_OPTS=\"\""), std::string::npos) << p;
  o.loop_mode = LoopMode::kDirect;
  o.inject = Inject::kInnerNoBarrier;
  p = WorkloadPreamble(o);
  EXPECT_NE(p.find("LOOP_OPTS=\"--direct-io=on\""), std::string::npos) << p;
  EXPECT_NE(p.find("INNER_MOUNT_OPTS=\"barrier=0\""), std::string::npos) << p;
  EXPECT_NE(DefaultWorkload().find("mark gate-setup"), std::string::npos);
  EXPECT_NE(DefaultWorkload().find("manifest inner-1 \"$INNER\""), std::string::npos);
  // fsync and fdatasync promises between the syncs (docs/gate.md, "Promises of single fsyncs")
  EXPECT_NE(DefaultWorkload().find("promise inner-fsync-p \"$INNER\" p"), std::string::npos);
  EXPECT_NE(DefaultWorkload().find("promise inner-fdatasync-f2 \"$INNER\" d/f2"), std::string::npos);
  // an O_SYNC write and an O_DIRECT write with an fdatasync, each a promise
  EXPECT_NE(DefaultWorkload().find("xfs_io -s -c \"pwrite"), std::string::npos);
  EXPECT_NE(DefaultWorkload().find("promise inner-osync-blob \"$INNER\" d/blob"), std::string::npos);
  EXPECT_NE(DefaultWorkload().find("xfs_io -d -c \"pwrite -q -S 0xa5 0 16384\" -c fdatasync"), std::string::npos);
  EXPECT_NE(DefaultWorkload().find("promise inner-odirect-fdatasync-big \"$INNER\" big"), std::string::npos);
}

TEST(Gate, SplitsManifestsByMarkPrefix) {
  trace::Expectations all{{"inner-1", {}}, {"outer-1", {}}, {"inner-2", {}}, {"unmounted", {}}};
  trace::Expectations outer, inner;
  SplitExpectations(all, outer, inner);
  EXPECT_EQ(inner.size(), 2u);
  EXPECT_EQ(outer.size(), 2u);
  EXPECT_TRUE(inner.count("inner-2"));
  EXPECT_TRUE(outer.count("unmounted"));
}

TEST(Gate, ReportsFollowTheContract) {
  GateResult r;
  r.kernel = "k";
  r.loop_mode = "buffered";
  r.inject = "inner-nobarrier";
  r.possible = "1234";
  r.covered = "1000";
  r.generated = 3;
  r.checked = 4;
  r.classes = true;
  r.outer_classes = 3;
  r.inner_classes = 2;
  GateViolation v{1, 7, Level::kInner, oracles::Oracle::kData, 1, 40, {38, 39}, "d/f0: size 0", "12", "ab", "cd"};
  r.violations = {v};
  r.groups = {{0, models::kNoEntry, 10, 20, 1, {}}, {1, 20, 21, 40, 2, {v}}};
  auto j = GateToJson(r);
  EXPECT_EQ(j["states"]["possible"], 1234);
  EXPECT_EQ(j["states"]["generated"], 3);
  EXPECT_EQ(j["states"]["checked"], 4);
  EXPECT_EQ(j["states"]["covered"], 1000);
  EXPECT_EQ(j["classes"], nlohmann::json({{"on", true}, {"outer", 3}, {"inner", 2}}));
  EXPECT_EQ(j["outer_fs"], "ext4");  // --outer's default (gate/outer_fs.h)
  EXPECT_EQ(j["distinct_images"], nlohmann::json({{"lower", 3}, {"inner", 2}}));
  EXPECT_EQ(j["violations"][0]["covers"], 12);
  EXPECT_EQ(j["violations"][0]["class"], "ab");
  EXPECT_EQ(j["violations"][0]["inner_class"], "cd");
  EXPECT_EQ(j["violations"][0]["level"], "inner");
  EXPECT_EQ(j["violations"][0]["oracle"], "data");
  EXPECT_EQ(j["violations"][0]["dropped"], nlohmann::json({38, 39}));
  std::string x = GateToJunit(r);
  EXPECT_NE(x.find("tests=\"2\" failures=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("segment 0 (crash points 10-20 after no barrier)"), std::string::npos) << x;
  EXPECT_NE(x.find("state 7 [inner data] crash point 40 dropped [38,39]: d/f0: size 0"), std::string::npos) << x;
  EXPECT_NE(x.find("1 of 2 states fail"), std::string::npos) << x;
  EXPECT_NE(x.find("<property name=\"states_covered\" value=\"1000\""), std::string::npos) << x;
  EXPECT_NE(x.find("<property name=\"classes_inner\" value=\"2\""), std::string::npos) << x;

  std::string t = GateToText(r, {});
  EXPECT_NE(t.find("#1 inner data on state 7, segment 1, crash point 40\n    dropped 2 entries: [38,39]\n"
                   "    d/f0: size 0\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("inner  data                   1"), std::string::npos) << t;
  EXPECT_NE(t.find("      2        1  segment 1 (crash points 21-40 after barrier 20)"), std::string::npos) << t;
  EXPECT_NE(t.find("classes judged: 3 outer, 2 inner; states covered 1000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("    stands for 12 lower states of its class (ab)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("FAIL: 1 violations in 1 of 4 lower crash states judged, standing for 12 of the 1000 states "
                   "covered"),
            std::string::npos)
      << t;
  GateResult pass = r;
  pass.violations.clear();
  pass.covered = pass.possible;
  t = GateToText(pass, {});
  EXPECT_NE(t.find("PASS: 0 violations in 1234 lower crash states\n"), std::string::npos) << t;
  EXPECT_NE(t.find("states covered 1234: every lower state\n"), std::string::npos) << t;
  // A count past 64 bits is a string in the JSON.
  pass.possible = pass.covered = "340282366920938463463374607431768211456";
  EXPECT_EQ(GateToJson(pass)["states"]["covered"], "340282366920938463463374607431768211456");
  t = GateToText(r, {.all = true});
  EXPECT_NE(t.find("violation 1: [inner data] state 7 crash point 40 dropped [38,39]: d/f0: size 0"),
            std::string::npos)
      << t;
  v.level = Level::kOuter;
  v.oracle = oracles::Oracle::kFsck;
  r.violations = {v};
  t = GateToText(r, {.kept_trace = "/tmp/lower", .image_bytes = 100663296});
  EXPECT_NE(t.find("torn replay /tmp/lower --to-entry 40 --drop 38,39 --device-size 100663296 --out lower.img && "
                   "e2fsck -E journal_only -y lower.img; e2fsck -fn lower.img"),
            std::string::npos)
      << t;
}

// corpus/ext4-on-loop-on-ext4 (outer ext4 with a buffered loop device on inner.img, recorded by torn
// on Debian's kernel) with its outer manifests, and inner manifests written here for what the inner
// file system's fsync (mark inner-fsync-1) and sync (inner-step-1) made durable: dir/one.
CheckInput CorpusInput() {
  CheckInput in;
  in.trace = std::string(TORN_SOURCE_DIR) + "/corpus/ext4-on-loop-on-ext4";
  auto all = trace::ReadExpectations(in.trace + "/expectations.json");
  EXPECT_TRUE(all.ok()) << all.status().message();
  SplitExpectations(*all, in.outer, in.inner);
  EXPECT_TRUE(in.inner.empty());
  trace::Manifest one{{{"dir/one", 10, "9b459021cb8517d19701b600beb181b4"}}, {"dir"}};
  in.inner = {{"inner-fsync-1", one}, {"inner-step-1", one}};
  in.from_mark = "inner-mkfs";
  return in;
}

GateResult CheckCorpus(bool classes, uint64_t budget) {
  GateOptions o;
  o.classes = classes;
  o.max_states = budget;
  o.jobs = 2;
  GateResult r;
  Status st = CheckLowerStates(o, CorpusInput(), r);
  EXPECT_TRUE(st.ok()) << st.message();
  return r;
}

TEST(GateCheck, ClassesCoverEveryLowerStateOfTheCorpusTrace) {
  GateResult r = CheckCorpus(true, 5000);
  EXPECT_TRUE(r.classes);
  EXPECT_EQ(r.strategy, "exhaustive");
  EXPECT_EQ(r.covered, r.possible);
  EXPECT_GT(std::stoull(r.possible), 100000u);  // 133,978 states from inner-mkfs
  EXPECT_GE(r.checked, r.generated);
  EXPECT_LT(r.generated, 1000u);                // about 320 groups stand for them
  EXPECT_LE(r.outer_classes, r.checked);
  EXPECT_GE(r.inner_classes, 1u);
  EXPECT_LE(r.inner_classes, r.outer_classes);  // an outer class has one extracted image
  EXPECT_EQ(r.inner_marks, (std::vector<std::string>{"inner-fsync-1", "inner-step-1"}));
  EXPECT_EQ(r.outer_marks.size(), 4u);
  EXPECT_TRUE(r.violations.empty()) << r.violations.front().detail;
  ASSERT_FALSE(r.reductions.empty());
  EXPECT_NE(r.reductions[0].find("outer classes:"), std::string::npos) << r.reductions[0];
  // The covers add up, and equal outer classes always name the same inner class.
  models::BigCount covered = 0;
  std::map<std::string, std::string> inner_of;
  for (const auto& s : r.states) {
    covered += models::BigCount(s.covers);
    EXPECT_FALSE(s.inner_class.empty()) << s.id;
    auto [it, fresh] = inner_of.emplace(s.outer_class, s.inner_class);
    EXPECT_EQ(it->second, s.inner_class) << s.id;
  }
  EXPECT_EQ(covered.str(), r.possible);
  EXPECT_EQ(inner_of.size(), r.outer_classes);
}

// Every state judged state by state lies in a member of the classes run (the states that differ
// from the member's only in its fixed entries) and got the same verdicts; the exact states of both
// levels' data rules are members of their own.
TEST(GateCheck, StatesJudgedWithoutClassesLieInJudgedClassesWithTheSameVerdicts) {
  GateResult with = CheckCorpus(true, 5000);
  GateResult without = CheckCorpus(false, 400);
  EXPECT_FALSE(without.classes);
  EXPECT_EQ(without.covered, std::to_string(without.checked));
  EXPECT_EQ(without.checked, without.generated);
  EXPECT_GT(without.outer_classes, with.outer_classes / 4);  // distinct lower images
  std::map<size_t, std::vector<const JudgedState*>> by_segment;
  for (const auto& m : with.states) by_segment[m.segment].push_back(&m);
  for (const auto& s : without.states) {
    EXPECT_TRUE(s.fixed.empty());
    const JudgedState* in = nullptr;
    for (const JudgedState* m : by_segment[s.segment]) {
      std::vector<size_t> diff;
      std::set_symmetric_difference(s.dropped.begin(), s.dropped.end(), m->dropped.begin(), m->dropped.end(),
                                    std::back_inserter(diff));
      bool member = std::all_of(diff.begin(), diff.end(), [&](size_t e) {
        return std::binary_search(m->fixed.begin(), m->fixed.end(), e);
      });
      // A state split off as a member of its own is also in its former set: the smaller set wins.
      if (member && (!in || m->fixed.size() < in->fixed.size())) in = m;
    }
    ASSERT_NE(in, nullptr) << "state " << s.id << " of segment " << s.segment << " lies in no judged member";
    EXPECT_EQ(s.failed, in->failed) << "state " << s.id << " and member " << in->id;
  }
}

}  // namespace
}  // namespace torn::gate
