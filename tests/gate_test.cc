// torn gate end to end on Debian's kernel in the lab VM (label vm): passes in both loop modes, fails
// with each injected fault, and its JSON and JUnit reports have the contract's shape (one test case per
// crash-point group of the lower device, failing states listed with their dropped entries, the
// coverage and the classes judged at each level).
// Each run records a real dm-log-writes trace under QEMU and runs real e2fsck on one state of every
// class at both levels; nothing stands in for them. The passing runs use the default budget and must
// cover every lower state (the gate workload's windows fit it); the failing ones a small budget, so a
// run takes a minute or two.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/multiprecision/cpp_int.hpp>

#include "base/temp_file.h"
#include "lab/kernel.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

constexpr uint64_t kSmallBudget = 300;
constexpr uint64_t kDefaultBudget = 2500;   // gate/gate.h, GateOptions::max_states

using BigCount = boost::multiprecision::cpp_int;

// A count of the JSON: a number, or its decimal digits when it does not fit in 64 bits.
BigCount CountOf(const nlohmann::json& j) {
  return j.is_string() ? BigCount(j.get<std::string>()) : BigCount(j.get<uint64_t>());
}

struct GateRun {
  RunResult result;
  nlohmann::json json;
  std::string junit;
  uint64_t budget = 0;
};

// budget 0: the default.
GateRun Gate(std::vector<std::string> extra, uint64_t budget = kSmallBudget) {
  auto dir = TempDir::Create("torn-e2e-gate-").value();
  std::string junit = dir.path() + "/gate.xml";
  std::vector<std::string> args = {"gate", "--json", "--junit", junit, "--jobs", "2"};
  if (budget) args.insert(args.end(), {"--budget", std::to_string(budget)});
  args.insert(args.end(), extra.begin(), extra.end());
  GateRun g;
  g.budget = budget ? budget : kDefaultBudget;
  // The JSON of a failing run lists every failing state judged: more than RunTorn keeps.
  args.insert(args.begin(), TORN_BINARY);
  auto run = RunChild({.argv = args, .timeout = std::chrono::seconds(900), .capture_limit = size_t{256} << 20});
  if (!run.ok()) throw std::runtime_error(run.status().message());
  g.result = std::move(run).value();
  // stdout's JSON comes after the progress lines of stderr (merged output).
  size_t at = g.result.output.find("\n{\n");
  if (at != std::string::npos) g.json = nlohmann::json::parse(g.result.output.substr(at + 1), nullptr, false);
  std::ifstream in(junit);
  std::stringstream ss;
  ss << in.rdbuf();
  g.junit = ss.str();
  return g;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The contract's shape, whatever the verdict.
void ExpectShape(const GateRun& g) {
  ASSERT_TRUE(g.json.is_object()) << g.result.output;
  const auto& s = g.json["states"];
  ASSERT_TRUE(s.is_object());
  EXPECT_TRUE(s["possible"].is_number() || s["possible"].is_string());
  uint64_t generated = s["generated"].get<uint64_t>(), checked = s["checked"].get<uint64_t>();
  EXPECT_GT(generated, 0u);
  EXPECT_LE(generated, g.budget);
  // A generated state is a group; its members are the states judged, each standing for some states.
  EXPECT_GE(checked, generated);
  EXPECT_GE(CountOf(s["covered"]), BigCount(checked)) << s.dump();
  EXPECT_LE(CountOf(s["covered"]), CountOf(s["possible"])) << s.dump();
  // One e2fsck'd lower image per outer class, at most one extracted image per outer class.
  const auto& c = g.json["classes"];
  EXPECT_EQ(c["on"], true);
  uint64_t outer = c["outer"].get<uint64_t>(), inner = c["inner"].get<uint64_t>();
  EXPECT_GT(outer, 0u);
  EXPECT_LE(outer, checked);
  EXPECT_LE(inner, outer);
  EXPECT_EQ(g.json["distinct_images"], nlohmann::json({{"lower", outer}, {"inner", inner}}));
  EXPECT_FALSE(g.json["reductions"].empty());
  EXPECT_FALSE(g.json["strategy"].get<std::string>().empty());
  // The built-in workload's inner manifests: 3 after the inner syncs, 4 promises of single fsyncs
  // (p's fsync, the fdatasyncs of big, d/f2, d/f4: docs/gate.md, "Promises of single fsyncs"), an O_SYNC
  // write of d/blob and an O_DIRECT write of big with its fdatasync.
  EXPECT_EQ(g.json["manifests"]["inner"].size(), 9u) << g.json["manifests"].dump();
  for (const char* k : {"boot", "record", "check", "total"}) EXPECT_GT(g.json["seconds"][k].get<double>(), 0) << k;
  for (const auto& v : g.json["violations"]) {
    EXPECT_TRUE(v["level"] == "outer" || v["level"] == "inner") << v.dump();
    // a failed mount of the recovered outer file system is a verdict of its own (--outer xfs|btrfs)
    EXPECT_TRUE(v["oracle"] == "fsck" || v["oracle"] == "data" ||
                (v["oracle"] == "mount" && v["level"] == "outer" && g.json["outer_fs"] != "ext4"))
        << v.dump();
    EXPECT_TRUE(v["dropped"].is_array());
    EXPECT_TRUE(v["crash_point"].is_number());
    EXPECT_FALSE(v["detail"].get<std::string>().empty());
    EXPECT_GE(CountOf(v["covers"]), BigCount(1)) << v.dump();
    EXPECT_EQ(v["class"].get<std::string>().size(), 32u) << v.dump();
  }
  // JUnit: one test case per crash-point group; a failure per group with violations, listing states.
  ASSERT_FALSE(g.junit.empty()) << g.result.output;
  EXPECT_NE(g.junit.find("<testsuite name=\"torn gate\""), std::string::npos);
  EXPECT_NE(g.junit.find("<property name=\"states_covered\""), std::string::npos);
  EXPECT_NE(g.junit.find("<property name=\"classes_inner\""), std::string::npos);
  size_t cases = Count(g.junit, "<testcase ");
  EXPECT_GT(cases, 0u);
  EXPECT_NE(g.junit.find("tests=\"" + std::to_string(cases) + "\""), std::string::npos);
  std::set<uint64_t> failing_segments;
  for (const auto& v : g.json["violations"]) failing_segments.insert(v["segment"].get<uint64_t>());
  EXPECT_EQ(Count(g.junit, "<failure "), failing_segments.size());
  for (const auto& v : g.json["violations"]) {
    std::string line = "state " + std::to_string(v["state"].get<uint64_t>()) + " [" +
                       v["level"].get<std::string>() + " " + v["oracle"].get<std::string>() + "]";
    EXPECT_NE(g.junit.find(line), std::string::npos) << line;
  }
}

// With the default budget, every lower state of the gate's own recording lies in a judged class.
void ExpectEveryStateCovered(const GateRun& g) {
  EXPECT_EQ(g.json["strategy"], "exhaustive") << g.json["strategy"];
  EXPECT_EQ(g.json["states"]["covered"], g.json["states"]["possible"]) << g.json["states"].dump();
  // Many states per class: a class is judged once, and most lower states share one.
  EXPECT_GT(CountOf(g.json["states"]["covered"]), BigCount(10 * g.json["classes"]["outer"].get<uint64_t>()));
}

TEST(GateVm, PassesBuffered) {
  GateRun g = Gate({"--loop-mode", "buffered"}, 0);
  EXPECT_EQ(g.result.status.code, 0) << g.result.output;
  ExpectShape(g);
  ExpectEveryStateCovered(g);
  EXPECT_TRUE(g.json["violations"].empty());
  EXPECT_EQ(g.json["loop_mode"], "buffered");
}

TEST(GateVm, PassesDirect) {
  GateRun g = Gate({"--loop-mode", "direct"}, 0);
  EXPECT_EQ(g.result.status.code, 0) << g.result.output;
  ExpectShape(g);
  ExpectEveryStateCovered(g);
  EXPECT_TRUE(g.json["violations"].empty());
  EXPECT_EQ(g.json["loop_mode"], "direct");
}

TEST(GateVm, FailsWithOuterNoBarrier) {
  GateRun g = Gate({"--inject", "outer-nobarrier"});
  EXPECT_EQ(g.result.status.code, 1) << g.result.output;
  ExpectShape(g);
  EXPECT_FALSE(g.json["violations"].empty());
  EXPECT_TRUE(std::any_of(g.json["violations"].begin(), g.json["violations"].end(),
                          [](const nlohmann::json& v) { return v["level"] == "outer"; }));
  EXPECT_NE(g.junit.find("<failure "), std::string::npos);
}

TEST(GateVm, FailsWithInnerNoBarrier) {
  GateRun g = Gate({"--inject", "inner-nobarrier"});
  EXPECT_EQ(g.result.status.code, 1) << g.result.output;
  ExpectShape(g);
  ASSERT_FALSE(g.json["violations"].empty());
  EXPECT_TRUE(std::any_of(g.json["violations"].begin(), g.json["violations"].end(),
                          [](const nlohmann::json& v) { return v["level"] == "inner"; }));
  EXPECT_NE(g.junit.find("<failure "), std::string::npos);
}

// What a kernel CI does: --kernel names a bzImage whose file name carries no release, so its modules
// are found only through --modules (here Debian's kernel and modules, copied under another name).
TEST(GateVm, KernelImageWithModulesDir) {
  auto kernel = lab::DebianKernel(nullptr);
  ASSERT_TRUE(kernel.ok()) << kernel.status().message();
  auto dir = TempDir::Create("torn-e2e-gate-kernel-").value();
  std::string image = dir.path() + "/bzImage";
  ASSERT_TRUE(RunChild({.argv = {"cp", kernel->vmlinuz, image}}).value().status.success());
  RunResult r = RunTorn({"gate", "--kernel", image, "--modules", kernel->modules_dir, "--budget", "50"}, 900);
  EXPECT_EQ(r.status.code, 0) << r.output;
  EXPECT_NE(r.output.find("user kernel " + image), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lower crash states"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(", 50 generated, "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("PASS: 0 violations in "), std::string::npos) << r.output;
  // Without --modules the lab cannot find them, and says so.
  EXPECT_EQ(RunTorn({"gate", "--kernel", image, "--budget", "10"}).status.code, 2);
}

// A workload that does not follow gate/workload.h is an error (exit 2) that names what is missing.
TEST(GateVm, WorkloadWithoutSetupMarkIsAnError) {
  auto dir = TempDir::Create("torn-e2e-gate-wl-").value();
  std::string wl = dir.path() + "/wl.sh";
  ASSERT_TRUE(RunChild({.argv = {"sh", "-c", "printf 'echo hello > $MNT/hello\\nmanifest inner-1\\n' > " + wl}})
                  .value().status.success());
  RunResult r = RunTorn({"gate", "--workload", wl, "--budget", "10"}, 600);
  EXPECT_EQ(r.status.code, 2) << r.output;
  EXPECT_NE(r.output.find("the workload " + wl + " sent no mark 'gate-setup'"), std::string::npos) << r.output;
}

// --outer xfs|btrfs (gate/outer_fs.h): the backing file on another outer file system, each lower state
// judged by itself at the outer level (the kernel's log recovery on a loop device, xfs_repair -n or
// btrfs check), the inner level as with ext4. Debian's loop driver passes in both modes; a small
// budget, as every outer state costs a mount.
constexpr uint64_t kOuterBudget = 150;

void ExpectOuterPasses(const std::string& fs, const std::string& mode) {
  GateRun g = Gate({"--outer", fs, "--loop-mode", mode}, kOuterBudget);
  EXPECT_EQ(g.result.status.code, 0) << g.result.output;
  ExpectShape(g);
  EXPECT_EQ(g.json["outer_fs"], fs);
  EXPECT_EQ(g.json["loop_mode"], mode);
  EXPECT_TRUE(g.json["violations"].empty());
  // No outer classes: each judged lower state stands for itself alone (states with identical images
  // still share one judgement), and the report says so.
  EXPECT_EQ(g.json["states"]["covered"], g.json["states"]["checked"]);
  const auto& red = g.json["reductions"];
  EXPECT_TRUE(std::any_of(red.begin(), red.end(), [&](const nlohmann::json& l) {
    return l.get<std::string>().starts_with("outer classes: off (" + fs + ")");
  })) << red.dump();
  EXPECT_NE(g.junit.find("<property name=\"outer_fs\" value=\"" + fs + "\""), std::string::npos);
}

TEST(GateVm, PassesOuterXfsBuffered) { ExpectOuterPasses("xfs", "buffered"); }
TEST(GateVm, PassesOuterXfsDirect) { ExpectOuterPasses("xfs", "direct"); }
TEST(GateVm, PassesOuterBtrfsBuffered) { ExpectOuterPasses("btrfs", "buffered"); }
TEST(GateVm, PassesOuterBtrfsDirect) { ExpectOuterPasses("btrfs", "direct"); }

// btrfs keeps nobarrier: its commits and the loop driver's fsyncs reach the lower device with no flush,
// and the recovered outer btrfs breaks (btrfs check, mount, or the backing file unreadable).
TEST(GateVm, FailsOuterBtrfsWithOuterNoBarrier) {
  GateRun g = Gate({"--outer", "btrfs", "--inject", "outer-nobarrier"}, 50);
  EXPECT_EQ(g.result.status.code, 1) << g.result.output;
  ExpectShape(g);
  EXPECT_TRUE(std::any_of(g.json["violations"].begin(), g.json["violations"].end(),
                          [](const nlohmann::json& v) { return v["level"] == "outer"; }));
}

// xfs has no nobarrier since Linux 4.19: refused before booting (the gate's failing xfs case is a loop
// driver whose flush does nothing, tests/gate_mutants_test.cc).
TEST(GateVm, OuterXfsRefusesOuterNoBarrier) {
  RunResult r = RunTorn({"gate", "--outer", "xfs", "--inject", "outer-nobarrier"});
  EXPECT_EQ(r.status.code, 2) << r.output;
  EXPECT_NE(r.output.find("xfs has no nobarrier mount option since Linux 4.19"), std::string::npos) << r.output;
}

TEST(GateVm, BadOptionsExitTwo) {
  EXPECT_EQ(RunTorn({"gate", "--outer", "zfs"}).status.code, 2);
  EXPECT_EQ(RunTorn({"gate", "--loop-mode", "sideways"}).status.code, 2);
  EXPECT_EQ(RunTorn({"gate", "--inject", "everything"}).status.code, 2);
  EXPECT_EQ(RunTorn({"gate", "--workload", "/nonexistent/workload.sh"}).status.code, 2);
}

}  // namespace
}  // namespace torn::testing
