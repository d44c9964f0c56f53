// torn check end to end, through the binary, on the real-kernel samples and the corpus (corpus/, traces
// recorded by torn record in the lab VM), with the real e2fsck and SQLite.
//
// Issue 5's "done when": under fua-barrier, the corpus traces recorded with barriers give no violation
// (within a state budget that keeps the test short; the coverage is printed, never hidden), and
// ext4-nobarrier gives fsck and ordering violations, a sample of which is reproduced by hand: the
// entries through the crash point minus the dropped ones, applied with the replayer onto a zeroed
// image, then e2fsck run directly.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <ostream>
#include <set>
#include <tuple>
#include <thread>

#include <gtest/gtest.h>

#include "models/model.h"

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "replayer/apply.h"
#include "store/store.h"
#include "tests/test_util.h"
#include "trace/expectations.h"
#include "trace/log.h"

namespace torn::testing {
namespace {

std::string WriteManifest(const std::string& sample, const std::string& path, bool break_p_one) {
  auto m = SampleFacts(sample)["manifests_at_marks"];
  if (break_p_one)
    for (const char* mark : {"step-1", "step-2"})
      for (auto& f : m[mark]["files"])
        if (f["path"] == "p/one") f["md5"] = "00000000000000000000000000000000";
  std::ofstream(path) << m.dump(1);
  return path;
}

std::string CorpusTrace(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

uint64_t CorpusDeviceBytes(const std::string& name) {
  std::ifstream in(CorpusTrace(name) + "/trace.json");
  return nlohmann::json::parse(in)["device_bytes"].get<uint64_t>();
}

// Prints what the run covered, for the test log: a budget cuts the enumeration, and that must show.
void PrintCoverage(const std::string& what, const nlohmann::json& j) {
  std::printf("coverage %s: %s possible, %s generated, %s checked (%s)\n", what.c_str(),
              j["states"]["possible"].dump().c_str(), j["states"]["generated"].dump().c_str(),
              j["states"]["checked"].dump().c_str(), j.value("strategy", std::string("?")).c_str());
}

nlohmann::json CheckJson(const std::vector<std::string>& args, int expect_rc) {
  auto r = RunTorn(args, 900);
  EXPECT_EQ(r.status.code, expect_rc) << r.output;
  size_t brace = r.output.find('{');  // progress lines go to stderr, merged: skip them
  EXPECT_NE(brace, std::string::npos) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

void ExpectContractJson(const nlohmann::json& j) {
  ASSERT_TRUE(j.contains("states"));
  for (const char* k : {"possible", "generated", "checked"}) {
    ASSERT_TRUE(j["states"].contains(k)) << k;
    EXPECT_TRUE(j["states"][k].is_number_unsigned() || j["states"][k].is_string()) << k;
  }
  // Each generated state (a group, with classes) is judged as one state or more (its members), and
  // each judged state stands for one state or more: generated <= checked <= covered <= possible.
  ASSERT_TRUE(j["states"].contains("covered"));
  auto count = [](const nlohmann::json& x) {
    return x.is_string() ? models::BigCount(x.get<std::string>()) : models::BigCount(x.get<uint64_t>());
  };
  EXPECT_LE(j["states"]["generated"].get<uint64_t>(), j["states"]["checked"].get<uint64_t>());
  EXPECT_LE(models::BigCount(j["states"]["checked"].get<uint64_t>()), count(j["states"]["covered"]));
  EXPECT_LE(count(j["states"]["covered"]), count(j["states"]["possible"]));
  if (j.value("classes", false)) {
    EXPECT_LE(count(j["states"]["judged"]), count(j["states"]["classes"]));
    EXPECT_LE(count(j["states"]["classes"]), models::BigCount(j["states"]["checked"].get<uint64_t>()));
  }
  ASSERT_TRUE(j["violations"].is_array());
  uint64_t id = 0;
  for (const auto& v : j["violations"]) {
    EXPECT_EQ(v["id"].get<uint64_t>(), ++id);
    EXPECT_TRUE(v["oracle"].is_string());
    EXPECT_TRUE(v["crash_point"].is_number_unsigned());
    EXPECT_TRUE(v["dropped"].is_array());
    for (const auto& d : v["dropped"]) EXPECT_LE(d.get<uint64_t>(), v["crash_point"].get<uint64_t>());
    EXPECT_TRUE(v["detail"].is_string() && !v["detail"].get<std::string>().empty());
  }
}

class CheckSamples : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckSamples, FuaBarrierFindsNothingOnExt4WithBarriers) {
  auto dir = TempDir::Create("torn-check-");
  std::string expect = WriteManifest(GetParam(), dir->path() + "/expect.json", false);
  std::string junit = dir->path() + "/junit.xml";
  auto j = CheckJson({"check", SampleLog(GetParam()), "--from-mark", "mkfs", "--budget", "250", "--expect",
                      expect, "--jobs", "2", "--json", "--junit", junit},
                     0);
  ExpectContractJson(j);
  EXPECT_EQ(j["model"], "fua-barrier");
  // Classes: the budget of 250 generated groups is more than the trace needs, so every state after mkfs
  // is covered by a judged class (the sample allows about 10^6 states).
  EXPECT_EQ(j["strategy"], "exhaustive");
  EXPECT_LE(j["states"]["generated"].get<uint64_t>(), 250u);
  EXPECT_GE(j["states"]["checked"].get<uint64_t>(), j["states"]["generated"].get<uint64_t>());
  EXPECT_EQ(j["states"]["covered"], j["states"]["possible"]);
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump(1);
  EXPECT_EQ(j["oracles"], nlohmann::json({"fsck", "data", "ordering"}));
  // State by state, the budget bounds the states generated, each one judged.
  auto plain = CheckJson({"check", SampleLog(GetParam()), "--from-mark", "mkfs", "--budget", "250", "--expect",
                          expect, "--jobs", "2", "--json", "--no-classes"},
                         0);
  EXPECT_EQ(plain["states"]["generated"], 250);
  EXPECT_GE(plain["states"]["checked"].get<uint64_t>(), 250u);
  EXPECT_TRUE(plain["violations"].empty()) << plain["violations"].dump(1);
  // The JUnit report: well-formed (xmllint), one test case per crash point, no failure.
  auto lint = RunChild({.argv = {"xmllint", "--noout", junit}});
  ASSERT_TRUE(lint.ok());
  EXPECT_TRUE(lint->status.success()) << lint->output;
  std::ifstream in(junit);
  std::string xml((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(xml.find("<testsuite name=\"torn check\""), std::string::npos);
  EXPECT_EQ(xml.find("<failure"), std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"torn.fua-barrier\" name=\"crash point "), std::string::npos);
}

TEST_P(CheckSamples, PrefixAtFuaPointsIsWhatGeneric482Checks) {
  auto j = CheckJson({"check", SampleLog(GetParam()), "--model", "prefix", "--points", "fua", "--from-mark",
                      "mkfs", "--json"},
                     0);
  ExpectContractJson(j);
  EXPECT_EQ(j["states"]["checked"], j["states"]["generated"]);
  EXPECT_GT(j["states"]["checked"].get<int>(), 3);
}

TEST_P(CheckSamples, OneStableFileWithAWrongMd5IsExactlyWhatTheDataOracleReports) {
  auto dir = TempDir::Create("torn-check-");
  std::string expect = WriteManifest(GetParam(), dir->path() + "/expect.json", true);
  auto j = CheckJson({"check", SampleLog(GetParam()), "--model", "prefix", "--from-mark", "step-1",
                      "--oracle", "data", "--expect", expect, "--json"},
                     1);
  ExpectContractJson(j);
  ASSERT_FALSE(j["violations"].empty());
  for (const auto& v : j["violations"]) {
    EXPECT_EQ(v["oracle"], "data");
    std::string d = v["detail"];
    EXPECT_NE(d.find("1 of "), std::string::npos) << d;
    EXPECT_NE(d.find("p/one: size 6 md5 eb260e9ae827821beceeed4104f0ad89, expected size 6 md5 0000"),
              std::string::npos)
        << d;
  }
  // The correct manifest: nothing.
  std::string good = WriteManifest(GetParam(), dir->path() + "/good.json", false);
  CheckJson({"check", SampleLog(GetParam()), "--model", "prefix", "--from-mark", "step-1", "--oracle",
             "data", "--expect", good, "--json"},
            0);
}

INSTANTIATE_TEST_SUITE_P(RealKernel, CheckSamples, ::testing::ValuesIn(SampleNames()));

// Replays a violation's state by hand: entries [0, crash_point] minus the dropped ones, applied with the
// replayer's ApplyEntry onto a zeroed image, then the real e2fsck, run directly.
bool FsckFailsOnHandReplay(const trace::Log& log, const nlohmann::json& v, uint64_t bytes,
                           const std::string& img) {
  std::set<size_t> dropped;
  for (const auto& d : v["dropped"]) dropped.insert(d.get<size_t>());
  {
    UniqueFd fd = std::move(OpenFile(img, O_RDWR | O_CREAT | O_TRUNC).value());
    EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(bytes)), 0);
    replay::Target t{fd.get(), false, bytes};
    std::vector<std::byte> scratch;
    for (size_t i = 0; i <= v["crash_point"].get<size_t>(); ++i)
      if (!dropped.count(i)) EXPECT_TRUE(replay::ApplyEntry(log, i, t, scratch).ok());
  }
  auto replay = RunChild({.argv = {"e2fsck", "-E", "journal_only", "-y", img}});
  auto check = RunChild({.argv = {"e2fsck", "-fn", img}});
  int rc = replay->status.code;
  return (rc & ~3) != 0 || !check->status.success();
}

// The corpus traces recorded with barriers: no violation under fua-barrier, all oracles. The budget
// (states per trace) keeps the whole suite to a minute or so; the coverage line says how much of the
// space that is. The list is explicit, never every folder of corpus/: ext4-long allows 6.9*10^10
// states after mkfs and ext4-long-data-journal 1.8*10^44 (corpus/README.md), so they are here only
// with the same budget of 400 (a second or two each), a sample of windows no test can exhaust.
//
// ext4-fast-commit's journal is replayed by the kernel for fsck and data (oracles/kernel_replay.h; on
// this host with --host-mount: the tests run as root with loop devices), with the mount oracle too.
// e2fsprogs 1.47.0's userspace fast-commit replay fails legal states (CheckFastCommit below).
struct CorpusCase {
  std::string trace;
  std::vector<std::string> oracles;  // empty: the default ones
};
void PrintTo(const CorpusCase& c, std::ostream* os) { *os << c.trace; }

class CheckCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(CheckCorpus, FuaBarrierFindsNothingOnExt4WithBarriers) {
  std::vector<std::string> args = {"check", CorpusTrace(GetParam().trace), "--budget", "400", "--jobs", "2", "--json"};
  nlohmann::json oracles = {"fsck", "data", "ordering"};
  if (!GetParam().oracles.empty()) {
    std::string list;
    for (const auto& o : GetParam().oracles) list += (list.empty() ? "" : ",") + o;
    args.insert(args.end(), {"--oracle", list, "--host-mount"});
    oracles = GetParam().oracles;
  }
  auto j = CheckJson(args, 0);
  ExpectContractJson(j);
  PrintCoverage(GetParam().trace, j);
  EXPECT_EQ(j["model"], "fua-barrier");
  EXPECT_EQ(j["from_mark"], "mkfs");  // the default: crashes inside mkfs are not checked
  EXPECT_EQ(j["from_mark_default"], true);
  EXPECT_EQ(j["oracles"], oracles);
  // The budget bounds the generated states (groups, with classes); a segment that fits is exhaustive,
  // and then every one of its states is covered.
  EXPECT_LE(j["states"]["generated"].get<int>(), 400);
  if (j["strategy"] == "exhaustive") EXPECT_EQ(j["states"]["covered"], j["states"]["possible"]);
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump(1);
}

INSTANTIATE_TEST_SUITE_P(Recorded, CheckCorpus,
                         ::testing::Values(CorpusCase{"ext4-default", {}}, CorpusCase{"ext4-data-journal", {}},
                                           CorpusCase{"ext4-fast-commit", {"fsck", "data", "ordering", "mount"}},
                                           CorpusCase{"ext4-4k", {}}, CorpusCase{"ext4-long", {}},
                                           CorpusCase{"ext4-long-data-journal", {}}),
                         [](const auto& info) {
                           std::string n = info.param.trace;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Who replays a fast_commit file system's journal decides the fsck oracle's verdicts. e2fsprogs
// 1.47.0's replay (e2fsck -E journal_only) fails legal states of corpus/ext4-fast-commit, e.g. the log
// replayed through entry 116, right after fsync-f2: "Superblock checksum does not match superblock
// while trying to re-open", exit 12. The kernel's replay of the same states (this host's, through a
// loop mount) leaves file systems that e2fsck -fn finds clean and that hold what the manifests say.
TEST(CheckFastCommit, TheKernelsReplayPassesTheStatesE2fscksReplayFails) {
  const std::string trace = CorpusTrace("ext4-fast-commit");
  const std::vector<std::string> common = {"check", trace, "--budget", "150", "--jobs", "2", "--json"};
  auto args = common;
  args.insert(args.end(), {"--fast-commit-replay", "e2fsck"});
  auto by_e2fsck = CheckJson(args, 1);
  size_t fsck = 0;
  for (const auto& v : by_e2fsck["violations"]) fsck += v["oracle"] == "fsck";
  EXPECT_GT(fsck, 0u) << "e2fsck's fast-commit replay no longer fails these states: is e2fsprogs newer?";

  auto dir = TempDir::Create("torn-check-fc-");
  ASSERT_TRUE(dir.ok());
  const std::string db = dir->path() + "/fc.db";
  args = common;
  args.insert(args.end(), {"--host-mount", "--db", db});
  auto by_kernel = CheckJson(args, 0);
  EXPECT_TRUE(by_kernel["violations"].empty()) << by_kernel["violations"].dump(1);
  // The same states were judged, and those with a journal to replay were judged after the kernel's.
  EXPECT_EQ(by_kernel["states"]["generated"], by_e2fsck["states"]["generated"]);
  auto store = store::Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto runs = store->Runs();
  ASSERT_TRUE(runs.ok() && runs->size() == 1);
  auto states = store->LoadStates(runs->front().id);
  ASSERT_TRUE(states.ok());
  size_t kernel_fsck = 0, kernel_data = 0;
  for (const auto& st : *states)
    for (const auto& v : st.verdicts) {
      if (v.output.find("journal replayed by the kernel") == std::string::npos) continue;
      kernel_fsck += v.oracle == "fsck";
      kernel_data += v.oracle == "data";
    }
  EXPECT_GT(kernel_fsck, 0u);
  EXPECT_EQ(kernel_fsck, kernel_data);  // both oracles of a state take the same replay
}

TEST(CheckCorpusNobarrier, FsckAndOrderingViolationsAndTheDroppedEntriesReproduceThem) {
  auto dir = TempDir::Create("torn-check-");
  std::string trace = CorpusTrace("ext4-nobarrier");
  auto j = CheckJson({"check", trace, "--budget", "300", "--jobs", "2", "--json"}, 1);
  ExpectContractJson(j);
  PrintCoverage("ext4-nobarrier", j);
  std::vector<nlohmann::json> fsck;
  size_t ordering = 0;
  for (const auto& v : j["violations"]) {
    if (v["oracle"] == "fsck") fsck.push_back(v);
    ordering += v["oracle"] == "ordering";
  }
  std::printf("ext4-nobarrier: %zu fsck and %zu ordering violations\n", fsck.size(), ordering);
  EXPECT_GT(fsck.size(), 0u) << j.dump(1);
  EXPECT_GT(ordering, 0u) << j.dump(1);
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok());
  uint64_t bytes = CorpusDeviceBytes("ext4-nobarrier");
  // A sample spread over the run: every (n/8)th fsck violation.
  size_t step = std::max<size_t>(1, fsck.size() / 8);
  for (size_t k = 0; k < fsck.size(); k += step)
    EXPECT_TRUE(FsckFailsOnHandReplay(*log, fsck[k], bytes, dir->path() + "/hand.img")) << fsck[k].dump();
}

TEST(CheckCorpusNobarrier, KillNineThenResumeLosesAndDuplicatesNothing) {
  auto dir = TempDir::Create("torn-check-");
  std::string db = dir->path() + "/results.db";
  std::vector<std::string> args = {"check", CorpusTrace("ext4-nobarrier"), "--budget", "150", "--oracle",
                                   "fsck,ordering", "--jobs", "2", "--json"};
  // The reference: one uninterrupted run without a database.
  auto whole = CheckJson(args, 1);

  std::vector<std::string> with_db = args;
  with_db.insert(with_db.end(), {"--db", db});
  pid_t killed = 0;
  auto leftovers = [&] {  // the killed torn's images in /dev/shm (names carry the creator's pid)
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm"))
      n += e.path().filename().string().find("-p" + std::to_string(killed) + "-") != std::string::npos;
    return n;
  };
  {
    SpawnOptions o;
    o.argv = {TORN_BINARY};
    o.argv.insert(o.argv.end(), with_db.begin(), with_db.end());
    auto child = Subprocess::Start(o);
    ASSERT_TRUE(child.ok()) << child.status().message();
    // Wait until some states are stored, then kill -9 in the middle of the run.
    for (int i = 0; i < 600; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto s = store::Store::Open(db);
      if (!s.ok()) continue;
      auto states = s->LoadStates(1);
      if (states.ok() && states->size() >= 40) break;
    }
    killed = child->pid();
    ASSERT_EQ(::kill(child->pid(), SIGKILL), 0);
    RunResult r = child->Wait();
    EXPECT_EQ(r.status.how, ExitStatus::How::kSignaled);
  }
  size_t before;
  {
    auto s = store::Store::Open(db);
    ASSERT_TRUE(s.ok());
    auto states = s->LoadStates(1);
    ASSERT_TRUE(states.ok());
    before = states->size();
  }
  // Stored states are the groups' members: a group with a failed class proof has several.
  const uint64_t total = whole["states"]["checked"].get<uint64_t>();
  EXPECT_GE(before, 40u);
  EXPECT_LT(before, total) << "the run ended before the kill";
  EXPECT_GT(leftovers(), 0u) << "SIGKILL left no images behind: the sweep below proves nothing";

  auto resumed = CheckJson(with_db, 1);
  EXPECT_EQ(leftovers(), 0u) << "the resumed run did not sweep what the killed one left";
  EXPECT_EQ(resumed["resumed"].get<size_t>(), before);
  EXPECT_EQ(resumed["states"], whole["states"]);
  EXPECT_EQ(resumed["violations"], whole["violations"]);

  auto s = store::Store::Open(db);
  auto states = s->LoadStates(1);
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(states->size(), total);
  std::set<uint64_t> ids;
  for (const auto& st : *states) {
    ids.insert(st.state_id);
    EXPECT_EQ(st.verdicts.size(), 2u) << "state " << st.state_id;
  }
  EXPECT_EQ(ids.size(), total);
  // A third run finds the finished run and checks nothing new.
  auto again = CheckJson(with_db, 1);
  EXPECT_EQ(again["resumed"], total);
  EXPECT_EQ(again["violations"], whole["violations"]);
}

TEST(CheckUsage, BadArgumentsExitTwo) {
  EXPECT_EQ(RunTorn({"check", SampleLog("ext4-4k"), "--model", "nope"}).status.code, 2);
  EXPECT_EQ(RunTorn({"check", SampleLog("ext4-4k"), "--oracle", "fsck,bogus"}).status.code, 2);
  EXPECT_EQ(RunTorn({"check", SampleLog("ext4-4k"), "--budget", "ten"}).status.code, 2);
  EXPECT_EQ(RunTorn({"check", SampleLog("ext4-4k"), "--from-mark", "no-such"}).status.code, 2);
  // The mount oracle runs in the lab VM (tests/check_vm_test.cc); a kernel that is not there is an
  // error that names it, before any state is checked.
  auto r = RunTorn({"check", SampleLog("ext4-4k"), "--oracle", "mount", "--kernel", "/no/such/vmlinuz"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("/no/such/vmlinuz"), std::string::npos) << r.output;
}

// Dedupe never changes a verdict: with it (images equal before journal replay share every image
// verdict; equal after it, e2fsck -fn's and the data oracle's) and without it (--no-dedupe), the same
// states fail with the same details. On a barrier-less trace (many failures) and the default one
// (many images equal after replay). State by state (--no-classes) so both runs judge the same states;
// classes have tests of their own (tests/classes_test.cc).
class DedupeKeepsVerdicts : public ::testing::TestWithParam<std::string> {};

TEST_P(DedupeKeepsVerdicts, SameViolationsWithAndWithoutDedupe) {
  auto key = [](const nlohmann::json& j) {
    std::set<std::tuple<uint64_t, std::string, std::string>> out;
    for (const auto& v : j["violations"])
      out.emplace(v["state"].get<uint64_t>(), v["oracle"].get<std::string>(), v["detail"].get<std::string>());
    return out;
  };
  std::vector<std::string> args = {"check", CorpusTrace(GetParam()), "--budget", "200", "--jobs", "2", "--json",
                                   "--no-classes"};
  int rc = GetParam() == "ext4-nobarrier" ? 1 : 0;
  auto with = CheckJson(args, rc);
  args.push_back("--no-dedupe");
  auto without = CheckJson(args, rc);
  EXPECT_EQ(key(with), key(without));
  EXPECT_EQ(without["distinct_images"], 200);
  EXPECT_EQ(without["reused_after_replay"], 0);
  if (GetParam() == "ext4-default") EXPECT_GT(with["reused_after_replay"].get<uint64_t>(), 20u) << "nothing reused";
}

INSTANTIATE_TEST_SUITE_P(Corpus, DedupeKeepsVerdicts, ::testing::Values("ext4-nobarrier", "ext4-default"),
                         [](const auto& info) { return info.param == "ext4-nobarrier" ? "Nobarrier" : "Default"; });

}  // namespace
}  // namespace torn::testing
