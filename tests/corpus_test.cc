// The corpus (corpus/): every trace parses with torn info, its manifests are keyed by its marks, its
// file system replayed to the last manifest's mark passes e2fsck and holds that manifest's files (read
// back through debugfs), and record-all.sh re-records every folder.
//
// Except ext4-nobarrier at its marks: without flushes, dm-log-writes logs the writes of a `sync` only
// at the next flush, after the mark, so the state at the mark lacks them (exactly what the data oracle
// is there to catch). For it, and for every trace, the whole log (through dm-log-writes-end, after the
// unmount) must hold the last manifest's files: no workload changes anything after it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {
namespace fs = std::filesystem;

std::string CorpusDir() { return std::string(TORN_SOURCE_DIR) + "/corpus"; }

// Every folder of corpus/ (the test below fails when one is missing here). Each case replays the log
// twice and runs e2fsck: cheap whatever the number of crash states a trace allows (ext4-long*: 10^10
// and more after mkfs).
const std::vector<std::string> kTraces = {"ext4-default",     "ext4-nobarrier", "ext4-data-journal",
                                          "ext4-fast-commit", "ext4-4k",        "ext4-on-loop-on-ext4",
                                          "ext4-long",        "ext4-long-data-journal", "ext4-rsync",
                                          "ext4-rsync-remount"};

TEST(Corpus, HoldsTheTracesAndTheRecordScript) {
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(CorpusDir())) {
    if (e.is_directory()) found.insert(e.path().filename());
  }
  EXPECT_EQ(found, std::set<std::string>(kTraces.begin(), kTraces.end()));
  auto script = ReadFileToString(CorpusDir() + "/record-all.sh");
  ASSERT_TRUE(script.ok());
  for (const auto& t : kTraces) EXPECT_NE(script->find("\"" + t + "|"), std::string::npos) << t;
}

class CorpusTrace : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusTrace, ParsesAndReplaysToItsLastManifest) {
  std::string dir = CorpusDir() + "/" + GetParam();
  auto workload = ReadFileToString(dir + "/workload.sh");
  ASSERT_TRUE(workload.ok());
  auto desc = nlohmann::json::parse(*ReadFileToString(dir + "/trace.json"));
  EXPECT_EQ(desc["source"]["how"], "record --vm");
  EXPECT_EQ(desc["source"]["workload"], *workload);  // the workload beside it made it

  RunResult info = RunTorn({"info", dir, "--json"});
  ASSERT_TRUE(info.status.success()) << info.output;
  auto j = nlohmann::json::parse(info.output);
  EXPECT_EQ(j["sectorsize"], desc["source"]["sectorsize"]);
  std::vector<std::string> marks;
  for (const auto& m : j["marks"]) marks.push_back(m["name"]);
  ASSERT_GE(marks.size(), 3u);
  EXPECT_EQ(marks.front(), "mkfs");
  EXPECT_EQ(marks.back(), "dm-log-writes-end");

  auto expect = nlohmann::json::parse(*ReadFileToString(dir + "/expectations.json"));
  ASSERT_FALSE(expect.empty());
  std::string last;  // the manifest whose mark comes last
  for (const auto& m : marks) {
    if (expect.contains(m)) last = m;
  }
  for (const auto& [name, _] : expect.items()) {
    EXPECT_NE(std::find(marks.begin(), marks.end(), name), marks.end()) << name;
  }

  auto tmp = TempDir::Create("torn-corpus-");
  ASSERT_TRUE(tmp.ok());
  std::vector<std::string> points = {"dm-log-writes-end"};
  if (GetParam() != "ext4-nobarrier") points.push_back(last);
  for (const std::string& point : points) {
    SCOPED_TRACE(GetParam() + " replayed to " + point);
    std::string img = tmp->path() + "/img-" + point;
    RunResult replay = RunTorn({"replay", dir, "--out", img, "--to-mark", point});
    ASSERT_TRUE(replay.status.success()) << replay.output;
    auto journal = RunChild({.argv = {"e2fsck", "-E", "journal_only", "-y", img}});
    ASSERT_TRUE(journal.ok() && journal->status.success()) << journal->output;
    auto fsck = RunChild({.argv = {"e2fsck", "-fn", img}});
    ASSERT_TRUE(fsck.ok());
    EXPECT_TRUE(fsck->status.success()) << fsck->output;
    for (const auto& f : expect[last]["files"]) {
      std::string path = f["path"], dumped = tmp->path() + "/dumped";
      auto dump = RunChild({.argv = {"debugfs", "-R", "dump /" + path + " " + dumped, img}});
      ASSERT_TRUE(dump.ok() && dump->status.success());
      ASSERT_TRUE(fs::exists(dumped)) << path;
      EXPECT_EQ(Md5OfFile(dumped), f["md5"].get<std::string>()) << path;
      fs::remove(dumped);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, CorpusTrace, ::testing::ValuesIn(kTraces),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace torn::testing
