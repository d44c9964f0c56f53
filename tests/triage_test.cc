// torn check's signatures and torn explain, held against the real tools: a minimized fsck failure of
// corpus/ext4-nobarrier is rebuilt with torn replay and judged by real e2fsck (the minimal state fails
// with the problem the signature names; putting back any one write makes it pass or fail otherwise,
// as the minimization says), and what torn explain says a write is, debugfs says too.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

std::string CorpusTrace(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

nlohmann::json Json(const RunResult& r) {
  size_t brace = r.output.find('{');  // progress lines go to stderr, merged: skip them
  auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

std::string Ranges(const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t e : v) s += (s.empty() ? "" : ",") + std::to_string(e);
  return s;
}

struct Fsck {
  int code = 0;
  std::string output;
};

// torn replay of the state dropping `drop` at `crash_point`, then real e2fsck: journal replay, -fn.
Fsck ReplayAndFsck(const std::string& dir, uint64_t crash_point, const std::vector<uint64_t>& drop) {
  std::string img = dir + "/s.img";
  std::vector<std::string> args = {"replay", CorpusTrace("ext4-nobarrier"), "--to-entry", std::to_string(crash_point),
                                   "--device-size", "67108864", "--out", img};
  if (!drop.empty()) args.insert(args.end(), {"--drop", Ranges(drop)});
  auto r = RunTorn(args);
  EXPECT_EQ(r.status.code, 0) << r.output;
  auto replay = RunChild({.argv = {"e2fsck", "-E", "journal_only", "-y", img}});
  EXPECT_TRUE(replay.ok());
  auto fn = RunChild({.argv = {"e2fsck", "-fn", img}});
  EXPECT_TRUE(fn.ok());
  return {fn->status.code, fn->output};
}

TEST(TriageCorpus, MinimalFsckFailureIsOneMinimalUnderRealE2fsckAndExplainedAsDebugfsSeesIt) {
  auto dir = TempDir::Create("torn-triage-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  std::string db = dir->path() + "/r.db";
  auto check = RunTorn({"check", CorpusTrace("ext4-nobarrier"), "--budget", "50", "--jobs", "2", "--db", db, "--json",
                        "--minimize", "3"},
                       900);
  ASSERT_EQ(check.status.code, 1) << check.output;
  auto j = Json(check);
  ASSERT_TRUE(j["signatures"].is_array());
  // Signatures partition the failing states: their counts add up.
  std::set<uint64_t> failing;
  for (const auto& v : j["violations"]) failing.insert(v["state"].get<uint64_t>());
  uint64_t states = 0;
  for (const auto& s : j["signatures"]) states += s["states"].get<uint64_t>();
  EXPECT_GE(states, failing.size());  // a state failing two oracles is in two signatures

  const nlohmann::json* sig = nullptr;
  for (const auto& s : j["signatures"])
    if (s["oracle"] == "fsck" && s["minimization"].is_object() && s["minimization"]["one_minimal"] == true) {
      sig = &s;
      break;
    }
  ASSERT_NE(sig, nullptr) << "no fsck signature was minimized to a 1-minimal set:\n" << j["signatures"].dump(1);
  const auto& m = (*sig)["minimization"];
  std::vector<uint64_t> minimal = m["minimal"].get<std::vector<uint64_t>>();
  uint64_t crash_point = m["crash_point"].get<uint64_t>();
  ASSERT_FALSE(minimal.empty());
  EXPECT_LT(minimal.size(), m["lost"].get<size_t>());

  // The minimal state fails real e2fsck -fn with the problem the minimization quotes.
  Fsck f = ReplayAndFsck(dir->path(), crash_point, minimal);
  EXPECT_NE(f.code & 4, 0) << f.output;
  std::string detail = m["detail"].get<std::string>();
  size_t paren = detail.find(" (");
  ASSERT_NE(paren, std::string::npos) << detail;
  std::string problem = detail.substr(paren + 2, detail.size() - paren - 3);
  EXPECT_NE(f.output.find(problem), std::string::npos) << problem << "\n" << f.output;
  // Putting back any one of its writes: e2fsck passes, or fails without that problem, as the
  // minimization recorded.
  ASSERT_EQ(m["put_back"].size(), minimal.size());
  for (size_t i = 0; i < minimal.size(); ++i) {
    std::vector<uint64_t> less = minimal;
    less.erase(less.begin() + static_cast<std::ptrdiff_t>(i));
    Fsck g = ReplayAndFsck(dir->path(), crash_point, less);
    bool same = (g.code & 4) && g.output.find(problem) != std::string::npos;
    EXPECT_FALSE(same) << "putting back entry " << minimal[i] << " still fails the same way:\n" << g.output;
    if (m["put_back"][i] == "passes") EXPECT_EQ(g.code, 0) << g.output;
  }

  // torn explain on the representative (from the database) finds the same minimal set, and names each
  // write's blocks; debugfs on the crash point's own image says which inode owns each block.
  uint64_t state = (*sig)["representative"]["state"].get<uint64_t>();
  auto ex = RunTorn({"explain", CorpusTrace("ext4-nobarrier"), "--state", std::to_string(state), "--db", db, "--oracle",
                     "fsck", "--json"},
                    600);
  ASSERT_EQ(ex.status.code, 0) << ex.output;
  auto e = Json(ex);
  ASSERT_FALSE(e.is_discarded());
  std::string dump = e.dump();
  for (uint64_t entry : minimal) EXPECT_NE(dump.find("\"entry\":" + std::to_string(entry)), std::string::npos) << entry;
  ReplayAndFsck(dir->path(), crash_point, {});  // s.img: the crash point with nothing lost
  size_t owners = 0;
  for (const auto& w : (*sig)["explanation"]) {
    for (const auto& b : w["blocks"]) {
      if (!b.contains("owner") || b["owner"].is_null() || b["role"] != "directory block") continue;
      uint64_t block = b["first"].get<uint64_t>(), owner = b["owner"].get<uint64_t>();
      auto icheck = RunChild({.argv = {"debugfs", "-R", "icheck " + std::to_string(block), dir->path() + "/s.img"}});
      ASSERT_TRUE(icheck.ok());
      EXPECT_NE(icheck->output.find(std::to_string(block) + "\t" + std::to_string(owner)), std::string::npos)
          << "block " << block << " owner " << owner << "\n" << icheck->output;
      ++owners;
    }
  }
  EXPECT_GT(owners, 0u) << "no directory block among the explained writes:\n" << (*sig)["explanation"].dump(1);
}

}  // namespace
}  // namespace torn::testing
