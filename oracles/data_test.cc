// The data oracle on the real-kernel samples: images replayed to marks with the replayer, the journal
// replayed by the real e2fsck, files read back with libext2fs and compared with the recorded manifests.
#include "oracles/data.h"

#include <gtest/gtest.h>

#include "base/temp_file.h"
#include "oracles/fsck.h"
#include "replayer/replay.h"
#include "tests/test_util.h"

namespace torn::oracles {
namespace {

struct Sample {
  std::string name;
  trace::Log log;
  trace::Expectations expect;
  uint64_t device_bytes;
};

Sample Load(const std::string& name) {
  auto facts = testing::SampleFacts(name);
  auto log = trace::Log::Open(testing::SampleLog(name));
  EXPECT_TRUE(log.ok()) << log.status().message();
  auto e = trace::ParseExpectations(facts["manifests_at_marks"], name);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return {name, std::move(log).value(), std::move(e).value(),
          facts["recorded_with"]["device_bytes"].get<uint64_t>()};
}

// The image of a prefix state through `entry`, with the journal replayed.
std::string PrefixImage(const Sample& s, size_t entry, const TempDir& dir) {
  std::string img = dir.path() + "/img-" + std::to_string(entry);
  auto r = replay::ReplayToImage(s.log, img, {.to_entry = entry, .device_bytes = s.device_bytes});
  EXPECT_TRUE(r.ok()) << r.status().message();
  auto v = RunFsck(img, {.full_check = false});
  EXPECT_TRUE(v.ok() && v->ok) << (v.ok() ? v->detail : v.status().message());
  return img;
}

models::CrashState Prefix(size_t entry) {
  models::CrashState st;
  st.crash_point = entry;
  st.base_end = entry + 1;
  return st;
}

class DataSamples : public ::testing::TestWithParam<std::string> {};

TEST_P(DataSamples, EveryMarkStateMatchesItsManifestExactly) {
  Sample s = Load(GetParam());
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->rules().size(), s.expect.size());
  auto dir = TempDir::Create("torn-data-");
  for (const auto& rule : plan->rules()) {
    auto a = plan->For(DurableView(Prefix(rule.mark_entry)));
    ASSERT_EQ(a.rule, &rule);
    EXPECT_TRUE(a.exact) << rule.mark;
    Verdict v = CheckData(PrefixImage(s, rule.mark_entry, *dir), a);
    EXPECT_TRUE(v.ok) << rule.mark << ": " << v.detail << "\n" << v.output;
    EXPECT_NE(v.output.find("the state at mark '" + rule.mark + "'"), std::string::npos) << v.output;
  }
}

TEST_P(DataSamples, EveryPrefixStateKeepsTheStableFiles) {
  Sample s = Load(GetParam());
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  auto dir = TempDir::Create("torn-data-");
  size_t checked = 0;
  for (size_t e = plan->rules().front().mark_entry; e < s.log.size(); ++e) {
    if (!s.log.entry(e).flush() && !s.log.entry(e).fua()) continue;  // the prefix model at barriers
    auto a = plan->For(DurableView(Prefix(e)));
    Verdict v = CheckData(PrefixImage(s, e, *dir), a);
    EXPECT_TRUE(v.ok) << "entry " << e << ": " << v.detail;
    ++checked;
  }
  EXPECT_GT(checked, 3u);
}

TEST_P(DataSamples, OneStableFileWithAWrongMd5IsExactlyTheFileReported) {
  Sample s = Load(GetParam());
  // p/one is stable between step-1 and step-2; change its md5 in both so that it stays stable.
  for (const char* mark : {"step-1", "step-2"})
    for (auto& f : s.expect.at(mark).files)
      if (f.path == "p/one") f.md5 = "00000000000000000000000000000000";
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  size_t step1 = *s.log.FindMark("step-1"), step2 = *s.log.FindMark("step-2");
  // A state strictly between the two marks: the stable rule, not the exact one.
  size_t e = step1 + (step2 - step1) / 2;
  auto a = plan->For(DurableView(Prefix(e)));
  ASSERT_NE(a.rule, nullptr);
  EXPECT_EQ(a.rule->mark, "step-1");
  EXPECT_FALSE(a.exact);
  auto dir = TempDir::Create("torn-data-");
  Verdict v = CheckData(PrefixImage(s, e, *dir), a);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.detail.find("1 of "), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("p/one: size 6 md5 eb260e9ae827821beceeed4104f0ad89, expected size 6 md5 0000"),
            std::string::npos)
      << v.detail;
  // Exactly one finding line in the output.
  EXPECT_EQ(std::count(v.output.begin(), v.output.end(), '\n'), 2) << v.output;
}

// torn fuzz's entries of an fsynced directory: {"content": "any"} checks the name only.
TEST_P(DataSamples, AnyContentChecksOnlyTheName) {
  Sample s = Load(GetParam());
  for (const char* mark : {"step-1", "step-2"}) {
    for (auto& f : s.expect.at(mark).files)
      if (f.path == "p/one") f = {"p/one", 0, "", true};
    s.expect.at(mark).files.push_back({"p/ghost", 0, "", true});
  }
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  size_t step1 = *s.log.FindMark("step-1"), step2 = *s.log.FindMark("step-2");
  auto a = plan->For(DurableView(Prefix(step1 + (step2 - step1) / 2)));
  auto dir = TempDir::Create("torn-data-");
  Verdict v = CheckData(PrefixImage(s, step1 + (step2 - step1) / 2, *dir), a);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.output.find("p/one"), std::string::npos) << v.output;
  EXPECT_NE(v.detail.find("p/ghost: missing"), std::string::npos) << v.detail;
}

// torn fuzz's rename target: {"or": [...]} holds when the file has any of the contents, and is stable
// when the next manifest promises one of them.
TEST_P(DataSamples, AlternativesHoldWhenAnyMatches) {
  Sample s = Load(GetParam());
  size_t step1 = *s.log.FindMark("step-1"), step2 = *s.log.FindMark("step-2");
  size_t e = step1 + (step2 - step1) / 2;
  auto dir = TempDir::Create("torn-data-");
  std::string img = PrefixImage(s, e, *dir);
  for (bool real_one_listed : {true, false}) {
    Sample t = Load(GetParam());
    for (auto& f : t.expect.at("step-1").files) {
      if (f.path != "p/one") continue;
      auto real = std::make_pair(f.size, f.md5);
      f.size = 99;
      f.md5 = "00000000000000000000000000000000";
      f.alternatives = {{5, "11111111111111111111111111111111"}};
      if (real_one_listed) f.alternatives.push_back(real);
    }
    auto plan = DataPlan::Build(t.log, t.expect);
    ASSERT_TRUE(plan.ok());
    auto a = plan->For(DurableView(Prefix(e)));
    ASSERT_NE(a.rule, nullptr);
    bool stable = false;
    for (const auto& f : a.rule->stable_files) stable |= f.path == "p/one";
    EXPECT_EQ(stable, real_one_listed);  // step-2 promises p/one's real content
    if (!stable) continue;
    Verdict v = CheckData(img, a);
    EXPECT_TRUE(v.ok) << v.detail;
  }
  // Not stable, but exact at the mark: a content none of the options has fails, naming them all.
  Sample t = Load(GetParam());
  for (auto& f : t.expect.at("step-1").files)
    if (f.path == "p/one") f = {"p/one", 99, "00000000000000000000000000000000", false, {{5, "11111111111111111111111111111111"}}};
  auto plan = DataPlan::Build(t.log, t.expect);
  ASSERT_TRUE(plan.ok());
  auto a = plan->For(DurableView(Prefix(step1)));
  ASSERT_TRUE(a.exact);
  Verdict v = CheckData(PrefixImage(t, step1, *dir), a);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.output.find("expected size 99 md5 0000"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find(" or size 5 md5 1111"), std::string::npos) << v.output;
}

INSTANTIATE_TEST_SUITE_P(RealKernel, DataSamples, ::testing::ValuesIn(testing::SampleNames()));

TEST(DataPlanSynthetic, AManifestForAnUnknownMarkIsBadInput) {
  Sample s = Load("ext4-4k");
  s.expect["no-such-mark"] = {};
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("no-such-mark"), std::string::npos);
}

TEST(DataPlanSynthetic, DroppedEntriesMakeAStateNotExact) {
  Sample s = Load("ext4-512");
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  size_t step1 = *s.log.FindMark("step-1");
  models::CrashState st = Prefix(step1 + 3);
  st.base_end = step1 + 1;
  st.dropped = {step1 + 1, step1 + 2, step1 + 3};  // all content entries after the mark dropped
  EXPECT_TRUE(plan->For(DurableView(st)).exact);
  st.dropped = {step1 + 1, step1 + 3};
  EXPECT_FALSE(plan->For(DurableView(st)).exact);
  EXPECT_EQ(plan->For(DurableView(Prefix(5))).rule, nullptr);  // before the first manifest
}

// A partial manifest (one fsync's promise) between two whole ones: it promises its file from its mark
// on, says nothing about the others, and the whole manifests' promises run through it.
TEST(DataPlanSynthetic, APartialManifestPromisesItsFilesAndKeepsTheOthers) {
  Sample s = Load("ext4-512");  // marks step-1 < step-2 < step-3
  auto file = [](const char* p, uint64_t size, const char* md5) { return trace::FileExpectation{p, size, md5}; };
  trace::Manifest m1{{file("a", 1, "x"), file("b", 2, "y")}, {".", "d"}};
  trace::Manifest m2{{file("c", 3, "z")}, {}, true};
  trace::Manifest m3{{file("a", 1, "x"), file("b", 5, "w"), file("c", 3, "z")}, {".", "d"}};
  s.expect = {{"step-1", m1}, {"step-2", m2}, {"step-3", m3}};
  auto plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->rules().size(), 3u);
  const auto& r1 = plan->rules()[0];
  const auto& r2 = plan->rules()[1];
  // From step-1: a (unchanged at the next manifest covering it, step-3), not b (changed), the dirs.
  EXPECT_EQ(r1.stable_files, (std::vector<trace::FileExpectation>{file("a", 1, "x")}));
  EXPECT_EQ(r1.stable_dirs, (std::vector<std::string>{".", "d"}));
  EXPECT_EQ(r1.manifest.files.size(), 2u);  // the state at a whole mark: the whole manifest
  // From the partial step-2: a still, and c, promised at step-2 and unchanged at step-3.
  EXPECT_EQ(r2.stable_files, (std::vector<trace::FileExpectation>{file("a", 1, "x"), file("c", 3, "z")}));
  EXPECT_EQ(r2.stable_dirs, (std::vector<std::string>{".", "d"}));
  // The state at step-2: what it promised and what is stable there.
  EXPECT_TRUE(r2.manifest.partial);
  EXPECT_EQ(r2.manifest.files, (std::vector<trace::FileExpectation>{file("c", 3, "z"), file("a", 1, "x")}));
  EXPECT_EQ(r2.manifest.dirs, (std::vector<std::string>{".", "d"}));
  EXPECT_TRUE(plan->rules()[2].stable_files.empty());  // after the last manifest: nothing

  // c changed after step-2: only the state at step-2 holds it to its promise.
  s.expect["step-3"].files[2] = file("c", 4, "v");
  plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->rules()[1].stable_files, (std::vector<trace::FileExpectation>{file("a", 1, "x")}));
  EXPECT_EQ(plan->rules()[1].manifest.files.size(), 2u);

  // The same manifests, none partial: step-2 then says a and b are gone, so nothing of step-1 is
  // stable, and only c is stable after step-2 (the rule of data.h).
  s.expect["step-3"].files[2] = file("c", 3, "z");
  s.expect["step-2"].partial = false;
  plan = DataPlan::Build(s.log, s.expect);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->rules()[0].stable_files.empty());
  EXPECT_TRUE(plan->rules()[0].stable_dirs.empty());
  EXPECT_EQ(plan->rules()[1].stable_files, (std::vector<trace::FileExpectation>{file("c", 3, "z")}));
}

}  // namespace
}  // namespace torn::oracles
