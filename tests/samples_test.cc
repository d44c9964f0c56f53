// End to end, through the torn binary, on logs recorded by a real kernel: every figure compared here
// comes from facts.json, which was established outside this project (xfstests' replay-log, the
// device's own md5, the workload's manifests).
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "base/loop_device.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

class Samples : public ::testing::TestWithParam<std::string> {};

TEST_P(Samples, InfoMatchesFacts) {
  auto facts = SampleFacts(GetParam());
  auto r = RunTorn({"info", SampleLog(GetParam()), "--json"});
  ASSERT_TRUE(r.status.success()) << r.output;
  auto info = nlohmann::json::parse(r.output);
  EXPECT_EQ(info["entries"], facts["entries"]);
  EXPECT_EQ(info["sectorsize"], facts["sectorsize"]);
  EXPECT_EQ(info["entries_with_flag"], facts["entries_with_flag"]);
  EXPECT_EQ(info["data_writes"], facts["data_writes"]);
  ASSERT_EQ(info["marks"].size(), facts["marks"].size());
  for (size_t i = 0; i < facts["marks"].size(); ++i) {
    EXPECT_EQ(info["marks"][i]["entry"], facts["marks"][i]["entry"]);
    EXPECT_EQ(info["marks"][i]["name"], facts["marks"][i]["name"]);
  }
}

TEST_P(Samples, ReplayToEveryMarkMatchesReplayLogDigests) {
  auto facts = SampleFacts(GetParam());
  auto dir = TempDir::Create("torn-e2e-");
  ASSERT_TRUE(dir.ok());
  std::string img = dir->path() + "/img";
  for (const auto& m : facts["marks"]) {
    std::string size = std::to_string(facts["recorded_with"]["device_bytes"].get<uint64_t>());
    auto r = RunTorn({"replay", SampleLog(GetParam()), "--out", img, "--to-mark", m["name"],
                      "--device-size", size});
    ASSERT_TRUE(r.status.success()) << r.output;
    EXPECT_EQ(Md5OfFile(img), m["image_md5_after_replay_through_mark"]) << "mark " << m["name"];
  }
}

TEST_P(Samples, FullReplayWithoutSizeGivesTheDeviceDigest) {
  // No --device-size: the image must size itself (writes, then the ext4 super block).
  auto facts = SampleFacts(GetParam());
  auto dir = TempDir::Create("torn-e2e-");
  ASSERT_TRUE(dir.ok());
  std::string img = dir->path() + "/img";
  auto r = RunTorn({"replay", SampleLog(GetParam()), "--out", img});
  ASSERT_TRUE(r.status.success()) << r.output;
  EXPECT_EQ(Md5OfFile(img), facts["device_md5_at_end"]);
  EXPECT_EQ(Md5OfFile(img), facts["image_md5_after_full_replay"]);
  // And the real e2fsck agrees the replayed file system is clean.
  auto fsck = RunChild({.argv = {"e2fsck", "-fn", img}, .timeout = std::chrono::seconds(60)});
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->status.success()) << fsck->output;
}

TEST_P(Samples, RawAndCompressedLogsAgreeAndImportRoundTrips) {
  auto dir = TempDir::Create("torn-e2e-");
  ASSERT_TRUE(dir.ok());
  std::string raw = dir->path() + "/raw.log";
  auto unz = RunChild({.argv = {"zstd", "-q", "-d", SampleLog(GetParam()), "-o", raw}});
  ASSERT_TRUE(unz.ok() && unz->status.success());
  auto a = RunTorn({"info", raw, "--json"});
  auto b = RunTorn({"info", SampleLog(GetParam()), "--json"});
  auto ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
  ja.erase("trace"), jb.erase("trace");
  EXPECT_EQ(ja, jb);

  std::string trace_dir = dir->path() + "/trace";
  auto imp = RunTorn({"import", raw, "--out", trace_dir});
  ASSERT_TRUE(imp.status.success()) << imp.output;
  auto c = RunTorn({"info", trace_dir, "--json"});
  ASSERT_TRUE(c.status.success()) << c.output;
  auto jc = nlohmann::json::parse(c.output);
  jc.erase("trace");
  EXPECT_EQ(ja, jc);
  // Importing twice into the same directory is refused.
  auto again = RunTorn({"import", raw, "--out", trace_dir});
  EXPECT_EQ(again.status.code, 2);
}

TEST_P(Samples, LogOnABlockDeviceReadsLikeTheFile) {
  // A log device is often read in place: attach the raw log to a loop device and read it from there.
  auto dir = TempDir::Create("torn-e2e-");
  ASSERT_TRUE(dir.ok());
  std::string raw = dir->path() + "/raw.log";
  ASSERT_TRUE(RunChild({.argv = {"zstd", "-q", "-d", SampleLog(GetParam()), "-o", raw}})->status.success());
  auto loop = LoopDevice::Attach(raw, {.read_only = true});
  ASSERT_TRUE(loop.ok()) << loop.status().message();
  auto a = RunTorn({"info", raw, "--json"});
  auto b = RunTorn({"info", loop->path(), "--json"});
  ASSERT_TRUE(b.status.success()) << b.output;
  auto ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
  ja.erase("trace"), jb.erase("trace");
  EXPECT_EQ(ja, jb);
  std::string img = dir->path() + "/img";
  auto r = RunTorn({"replay", loop->path(), "--out", img});
  ASSERT_TRUE(r.status.success()) << r.output;
  EXPECT_EQ(Md5OfFile(img), SampleFacts(GetParam())["device_md5_at_end"]);
}

INSTANTIATE_TEST_SUITE_P(RealKernel, Samples, ::testing::ValuesIn(SampleNames()));

// Bad input through the CLI: one line naming the file and the entry, exit 2, never a crash.
TEST(CliBadInput, TruncatedRealLogNamesTheEntry) {
  auto dir = TempDir::Create("torn-e2e-");
  ASSERT_TRUE(dir.ok());
  std::string raw = dir->path() + "/raw.log", cut = dir->path() + "/cut.log";
  ASSERT_TRUE(RunChild({.argv = {"zstd", "-q", "-d", SampleLog("ext4-4k"), "-o", raw}})->status.success());
  ASSERT_EQ(::truncate(raw.c_str(), 1000000), 0);
  auto r = RunTorn({"info", raw});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_EQ(r.output.find("torn: " + raw + ": entry "), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(CliBadInput, NotALogAndMissingFile) {
  auto r = RunTorn({"info", std::string(TORN_SOURCE_DIR) + "/CMakeLists.txt"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("wrong magic"), std::string::npos) << r.output;
  r = RunTorn({"info", "/nonexistent/log"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("/nonexistent/log"), std::string::npos) << r.output;
}

TEST(CliUsage, MistypedCommandSuggestsTheNearest) {
  auto r = RunTorn({"replya"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("did you mean 'replay'?"), std::string::npos) << r.output;
  r = RunTorn({"replay", SampleLog("ext4-4k")});  // --out missing
  EXPECT_EQ(r.status.code, 2);
  r = RunTorn({"info", "--help"});
  EXPECT_EQ(r.status.code, 0);
  EXPECT_NE(r.output.find("--json"), std::string::npos);
}

TEST(CliSafety, RefusesANonLoopBlockDevice) {
  auto r = RunTorn({"replay", SampleLog("ext4-4k"), "--out", "/dev/vda"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("not a loop device"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace torn::testing
