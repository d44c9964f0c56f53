// The gate's parts that need no VM: option names, the workload's preamble, the split of manifests by
// the key convention, and the JSON and JUnit reports of a result (one test case per segment, failing
// states listed with their level and dropped entries).
#include <gtest/gtest.h>

#include "gate/check.h"
#include "gate/gate.h"
#include "gate/report.h"
#include "gate/workload.h"
#include "models/model.h"

namespace torn::gate {
namespace {

TEST(Gate, ParsesOptionNames) {
  EXPECT_EQ(ParseLoopMode("direct").value(), LoopMode::kDirect);
  EXPECT_EQ(ParseLoopMode("buffered").value(), LoopMode::kBuffered);
  EXPECT_EQ(ParseLoopMode("dio").status().code(), Code::kBadInput);
  EXPECT_EQ(ParseInject("outer-nobarrier").value(), Inject::kOuterNoBarrier);
  EXPECT_EQ(ParseInject("inner-nobarrier").value(), Inject::kInnerNoBarrier);
  EXPECT_EQ(ParseInject("all").status().code(), Code::kBadInput);
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
  r.generated = r.checked = 3;
  GateViolation v{1, 7, Level::kInner, oracles::Oracle::kData, 1, 40, {38, 39}, "d/f0: size 0"};
  r.violations = {v};
  r.groups = {{0, models::kNoEntry, 10, 20, 1, {}}, {1, 20, 21, 40, 2, {v}}};
  auto j = GateToJson(r);
  EXPECT_EQ(j["states"]["possible"], 1234);
  EXPECT_EQ(j["states"]["checked"], 3);
  EXPECT_EQ(j["violations"][0]["level"], "inner");
  EXPECT_EQ(j["violations"][0]["oracle"], "data");
  EXPECT_EQ(j["violations"][0]["dropped"], nlohmann::json({38, 39}));
  std::string x = GateToJunit(r);
  EXPECT_NE(x.find("tests=\"2\" failures=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("segment 0 (crash points 10-20 after no barrier)"), std::string::npos) << x;
  EXPECT_NE(x.find("state 7 [inner data] crash point 40 dropped [38,39]: d/f0: size 0"), std::string::npos) << x;
  EXPECT_NE(x.find("1 of 2 states fail"), std::string::npos) << x;

  std::string t = GateToText(r, {});
  EXPECT_NE(t.find("#1 inner data on state 7, segment 1, crash point 40\n    dropped 2 entries: [38,39]\n"
                   "    d/f0: size 0\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("inner  data                   1"), std::string::npos) << t;
  EXPECT_NE(t.find("      2        1  segment 1 (crash points 21-40 after barrier 20)"), std::string::npos) << t;
  EXPECT_NE(t.find("FAIL: 1 violations in 3 lower crash states (1 failing)"), std::string::npos) << t;
  GateResult pass = r;
  pass.violations.clear();
  EXPECT_NE(GateToText(pass, {}).find("PASS: 0 violations in 3 lower crash states\n"), std::string::npos);
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

}  // namespace
}  // namespace torn::gate
