// Labelled vm: `torn fuzz` end to end in the lab VM.
//   - ext4 mounted barrier=0 (no flush, no FUA): a short campaign reports a durability violation,
//     a data finding (a promise broken in a crash state), within a few minutes;
//   - default ext4: a short campaign reports its coverage and no finding (a finding is a false alarm
//     of the promises, or a real bug: either way the test must say so), the mount oracle included
//     on a sample (--mount-every 48: workloads 0, 48, 96 and 144);
//   - a campaign killed with SIGKILL resumes with every workload done once;
//   - --shrink: a barrier=0 finding's workload loses operations while its signature stays, and its
//     crash state is minimized (campaign/shrink.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn {
namespace {

struct FuzzRun {
  int code = -1;
  nlohmann::json json;
  std::string output;
};

FuzzRun Fuzz(std::vector<std::string> args) {
  std::vector<std::string> argv = {TORN_BIN, "fuzz", "--json", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunChild({.argv = argv, .timeout = std::chrono::minutes(10)});
  FuzzRun out;
  if (!r.ok()) return out;
  out.code = r->status.how == ExitStatus::How::kExited ? r->status.code : -1;
  out.output = r->output;
  auto brace = r->output.find('{');
  if (brace != std::string::npos) out.json = nlohmann::json::parse(r->output.substr(brace), nullptr, false);
  return out;
}

int64_t Rows(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return n;
}

TEST(FuzzVm, NoBarrierGivesADurabilityViolation) {
  auto dir = TempDir::Create("torn-fuzz-test-");
  ASSERT_TRUE(dir.ok());
  auto t0 = std::chrono::steady_clock::now();
  // No mount sample: without barriers nearly every judged state fails, and mounting them all in the
  // lab VM takes minutes (the default ext4 test below has one).
  FuzzRun r = Fuzz({"--db", dir->path() + "/c.db", "--mount-opts", "barrier=0", "--length", "1", "--workloads", "4",
                "--states", "300", "--check-time", "60", "--mount-every", "0"});
  ASSERT_EQ(r.code, 1) << r.output;
  ASSERT_TRUE(r.json.is_object()) << r.output;
  bool data = false;
  for (const auto& f : r.json["findings"]) {
    if (f["oracle"] == "data") {
      data = true;
      EXPECT_TRUE(std::filesystem::exists(f["trace"].get<std::string>() + "/workload.txt")) << f.dump();
    }
  }
  EXPECT_TRUE(data) << r.json.dump(2);
  std::cerr << "barrier=0: " << r.json["findings"].size() << " signatures in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
}

TEST(FuzzVm, DefaultExt4ReportsCoverageWithoutFalseAlarms) {
  auto dir = TempDir::Create("torn-fuzz-test-");
  ASSERT_TRUE(dir.ok());
  FuzzRun r = Fuzz({"--db", dir->path() + "/c.db", "--length", "1", "--every", "6", "--per-boot", "25", "--states",
                "300", "--check-time", "60", "--mount-every", "48"});
  EXPECT_EQ(r.code, 0) << r.json.dump(2) << r.output;
  ASSERT_TRUE(r.json.is_object()) << r.output;
  EXPECT_EQ(r.json["done"], 25);
  EXPECT_EQ(r.json["record_failed"], 0);
  EXPECT_EQ(r.json["check_failed"], 0);
  EXPECT_GT(r.json["states_covered"].get<double>(), 1000.0);
  EXPECT_TRUE(r.json["findings"].empty()) << r.json["findings"].dump(2);
  std::cerr << "default: " << r.json["done"] << " workloads, " << r.json["states_covered"] << " states covered in "
            << r.json["seconds"] << " s\n";
}

// --time holds within a batch: no workload is checked once it has run out (one is, per run, so a
// short budget still makes progress), and the rest is done on resume.
TEST(FuzzVm, TimeBudgetStopsTheChecksOfABatchAndTheRestResumes) {
  auto dir = TempDir::Create("torn-fuzz-test-");
  ASSERT_TRUE(dir.ok());
  const std::vector<std::string> args = {"--db", dir->path() + "/c.db", "--length", "1", "--workloads", "6",
                                         "--per-boot", "6", "--mount-every", "0", "--time", "1"};
  for (int run = 1; run <= 2; ++run) {
    FuzzRun r = Fuzz(args);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.json["this_run"], 1) << "run " << run;  // the recording alone outlasts 1 s
    EXPECT_EQ(r.json["done"], run);
    EXPECT_EQ(r.json["budget_cut"], true);
  }
}

TEST(FuzzVm, ResumesAfterKill9) {
  auto dir = TempDir::Create("torn-fuzz-test-");
  ASSERT_TRUE(dir.ok());
  std::string db = dir->path() + "/c.db";
  std::vector<std::string> args = {"--db", db, "--length", "1", "--workloads", "6", "--per-boot", "2",
                                   "--states", "100"};
  {
    std::vector<std::string> argv = {TORN_BIN, "fuzz", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = Subprocess::Start({.argv = argv});
    ASSERT_TRUE(child.ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (Rows(db, "SELECT count(*) FROM workloads") < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    child->Kill();  // SIGKILL to its process group: torn and its qemu
    child->Wait();
  }
  int64_t before = Rows(db, "SELECT count(*) FROM workloads");
  EXPECT_GE(before, 1);
  EXPECT_LT(before, 6);
  FuzzRun r = Fuzz(args);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.json["done"], 6);
  EXPECT_EQ(r.json["this_run"], 6 - before);
  EXPECT_EQ(Rows(db, "SELECT count(DISTINCT id) FROM workloads"), 6);
}

TEST(FuzzVm, ShrinkDropsOperationsWhileTheSignatureStays) {
  auto dir = TempDir::Create("torn-fuzz-test-");
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> args = {"--db", dir->path() + "/c.db", "--mount-opts", "barrier=0", "--length", "1",
                                   "--workloads", "1", "--states", "200", "--check-time", "30", "--mount-every", "0",
                                   "--shrink", "1"};
  FuzzRun r = Fuzz(args);
  ASSERT_EQ(r.code, 1) << r.output;
  ASSERT_FALSE(r.json["findings"].empty()) << r.output;
  const auto& f = r.json["findings"][0];
  const auto& k = f["shrunk"];
  ASSERT_TRUE(k.is_object()) << f.dump(2) << r.output;
  size_t from = k["from_ops"], ops = k["ops"];
  EXPECT_LT(ops, from) << k.dump(2);
  // One round per operation dropped, and a last one that could drop none; round 1 also records the
  // workload itself: 1 + from + (from - 1) + ... + ops candidates.
  EXPECT_EQ(k["rounds"].get<size_t>(), from - ops + 1) << k.dump(2);
  size_t recorded = 1;
  for (size_t n = ops; n <= from; ++n) recorded += n;
  EXPECT_EQ(k["recorded"].get<size_t>(), recorded) << k.dump(2);
  // The kept trace is the shrunk workload's, and torn check on it finds the signature again.
  std::string trace = k["trace"];
  std::ifstream in(trace + "/workload.txt");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), k["workload"].get<std::string>());
  auto check = RunChild({.argv = {TORN_BIN, "check", trace, "--budget", "200", "--json", "--minimize", "0"},
                         .timeout = std::chrono::minutes(10)});
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->status.code, 1) << check->output;
  static const std::regex op("'op[0-9]+-");  // campaign signatures drop the operation numbers
  EXPECT_NE(std::regex_replace(check->output, op, "'").find(f["signature"].get<std::string>()), std::string::npos)
      << f["signature"] << check->output;
  // Its crash state, minimized.
  ASSERT_TRUE(k["minimization"].is_object()) << k.dump(2);
  EXPECT_EQ(k["minimization"]["one_minimal"], true);
  EXPECT_EQ(k["minimization"]["reproduced"], true);
  // Stored: a second run shrinks nothing again and prints the same result.
  FuzzRun again = Fuzz(args);
  EXPECT_EQ(again.json["findings"][0]["shrunk"], k);
}

}  // namespace
}  // namespace torn
