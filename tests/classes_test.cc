// Classes never change a verdict (issue 10; docs/checker.md, "Classes"), checked against real e2fsck
// through the torn binary on corpus traces:
//   1. state by state (--no-classes), every state still gets its class key recorded: states with the
//      same key got the same fsck and data verdicts from the real tools — the claim the whole
//      reduction stands on;
//   2. with classes, on a range of every corpus trace small enough to judge state by state too
//      (exhaustive both ways; the barrier-less trace is 3), the failing states are the same: per oracle, the states that fail without classes are exactly as
//      many as the failing members of the classes run stand for, every class judged has the verdicts
//      the states of that key got, and every legal state is covered;
//   3. on the barrier-less trace (bounded), classes still find fsck and ordering violations, with at
//      least as many distinct failing classes as state-by-state sampling finds;
//   4. --verify-classes on every corpus trace: random members of every class judged, built for real,
//      replayed by real e2fsck under a fixed clock, are what their class says.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/temp_file.h"
#include "models/model.h"
#include "store/store.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

nlohmann::json Check(std::vector<std::string> args, const std::string& db) {
  args.insert(args.end(), {"--jobs", "2", "--json", "--db", db});
  auto r = RunTorn(args, 1200);
  EXPECT_TRUE(r.status.how == ExitStatus::How::kExited && r.status.code <= 1) << r.output;
  size_t brace = r.output.find('{');
  auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

std::vector<store::StoredState> Stored(const std::string& db) {
  auto s = store::Store::Open(db);
  EXPECT_TRUE(s.ok());
  auto states = s->LoadStates(1);
  EXPECT_TRUE(states.ok());
  return states.ok() ? *states : std::vector<store::StoredState>{};
}

// The image oracles' verdicts of a state, "fsck:ok data:FAIL".
std::string ImageVerdicts(const store::StoredState& s) {
  std::string out;
  for (const auto& v : s.verdicts)
    if (v.oracle != "ordering") out += v.oracle + (v.ok ? ":ok " : ":FAIL ");
  return out;
}

bool Fails(const store::StoredState& s, const std::string& oracle) {
  for (const auto& v : s.verdicts)
    if (v.oracle == oracle) return !v.ok;
  return false;
}

// Rule 1 on a state-by-state run: one verdict pattern per class key.
std::map<std::string, std::string> VerdictsByKey(const std::vector<store::StoredState>& states) {
  std::map<std::string, std::string> by_key;
  for (const auto& s : states) {
    EXPECT_FALSE(s.class_key.empty()) << "state " << s.state_id << " has no class key";
    auto [it, fresh] = by_key.emplace(s.class_key, ImageVerdicts(s));
    EXPECT_EQ(it->second, ImageVerdicts(s)) << "two states of class " << s.class_key << " got different verdicts "
                                            << "(state " << s.state_id << ")";
  }
  return by_key;
}

struct Range {
  std::string trace, from_mark;
};
void PrintTo(const Range& r, std::ostream* os) { *os << r.trace << " from " << r.from_mark; }

class ClassesKeepVerdicts : public ::testing::TestWithParam<Range> {};

TEST_P(ClassesKeepVerdicts, SameFailingStatesWithAndWithoutClasses) {
  auto dir = TempDir::Create("torn-classes-");
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> args = {"check", Corpus(GetParam().trace), "--from-mark", GetParam().from_mark,
                                   "--budget", "100000"};
  std::vector<std::string> plain = args;
  plain.push_back("--no-classes");
  auto without = Check(plain, dir->path() + "/without.db");
  auto with = Check(args, dir->path() + "/with.db");
  ASSERT_EQ(without["strategy"], "exhaustive");
  ASSERT_EQ(with["strategy"], "exhaustive");
  EXPECT_EQ(with["states"]["covered"], with["states"]["possible"]) << "a legal state left out of every class";
  auto states = Stored(dir->path() + "/without.db");
  auto members = Stored(dir->path() + "/with.db");
  ASSERT_EQ(models::BigCount(states.size()), models::BigCount(without["states"]["possible"].dump()));

  std::map<std::string, std::string> by_key = VerdictsByKey(states);
  std::printf("%s from %s: %zu states, %zu class keys; with classes %zu states judged, %s classes\n",
              GetParam().trace.c_str(), GetParam().from_mark.c_str(), states.size(), by_key.size(), members.size(),
              with["states"]["classes"].dump().c_str());
  // Rule 2: the classes run's verdicts are those of its keys, and the failing states add up.
  for (const auto& m : members) {
    auto it = by_key.find(m.class_key);
    ASSERT_NE(it, by_key.end()) << "class " << m.class_key << " (state " << m.state_id << ") is no state's key";
    EXPECT_EQ(ImageVerdicts(m), it->second) << "state " << m.state_id;
  }
  for (const char* oracle : {"fsck", "data", "ordering"}) {
    models::BigCount failing_states = 0, failing_covered = 0;
    for (const auto& s : states) failing_states += Fails(s, oracle);
    for (const auto& m : members)
      if (Fails(m, oracle)) failing_covered += models::BigCount(m.covers);
    EXPECT_EQ(failing_states, failing_covered) << oracle;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ClassesKeepVerdicts,
                         ::testing::Values(Range{"ext4-default", "step-1"}, Range{"ext4-4k", "step-2"},
                                           Range{"ext4-data-journal", "step-2"},
                                           Range{"ext4-fast-commit", "fsync-dir"},
                                           Range{"ext4-on-loop-on-ext4", "outer-sync-2"},
                                           Range{"ext4-long", "step-8"}, Range{"ext4-long-data-journal", "step-8"}),
                         [](const auto& info) {
                           std::string n = info.param.trace;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// Rule 3: the barrier-less trace, sampled both ways.
TEST(ClassesNobarrier, StillFailsThroughFsckAndOrderingWithAsManyFailingClasses) {
  auto dir = TempDir::Create("torn-classes-");
  ASSERT_TRUE(dir.ok());
  std::vector<std::string> args = {"check", Corpus("ext4-nobarrier"), "--budget", "300"};
  std::vector<std::string> plain = args;
  plain.push_back("--no-classes");
  auto without = Check(plain, dir->path() + "/without.db");
  auto with = Check(args, dir->path() + "/with.db");
  auto states = Stored(dir->path() + "/without.db");
  auto members = Stored(dir->path() + "/with.db");
  std::map<std::string, std::string> by_key = VerdictsByKey(states);
  std::set<std::string> failing_without, failing_with;
  size_t fsck = 0, ordering = 0;
  for (const auto& s : states)
    if (Fails(s, "fsck")) failing_without.insert(s.class_key);
  for (const auto& m : members) {
    if (Fails(m, "fsck")) failing_with.insert(m.class_key), ++fsck;
    ordering += Fails(m, "ordering");
    auto it = by_key.find(m.class_key);
    if (it != by_key.end()) EXPECT_EQ(ImageVerdicts(m), it->second) << "class " << m.class_key;
  }
  std::printf("ext4-nobarrier: %zu distinct failing classes state by state, %zu with classes (%zu fsck and %zu "
              "ordering violations)\n",
              failing_without.size(), failing_with.size(), fsck, ordering);
  EXPECT_GT(fsck, 0u);
  EXPECT_GT(ordering, 0u);
  EXPECT_GE(failing_with.size(), failing_without.size());
}

// Rule 4, on every folder of corpus/ (a budget keeps the barrier-less trace's sample, and its JSON, small).
TEST(ClassesVerify, RandomMembersOfEveryClassMatchRealE2fsckOnEveryCorpusTrace) {
  for (const auto& e : std::filesystem::directory_iterator(std::string(TORN_SOURCE_DIR) + "/corpus")) {
    if (!e.is_directory()) continue;
    std::string name = e.path().filename().string();
    auto r = RunTorn({"check", e.path().string(), "--verify-classes", "2", "--budget", "300", "--jobs", "2",
                      "--json"},
                     1200);
    EXPECT_TRUE(r.status.how == ExitStatus::How::kExited && r.status.code <= 1) << name << ": " << r.output;
    size_t brace = r.output.find('{');
    auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << name << ": " << r.output;
    std::printf("%s: %s classes, %s verified\n", name.c_str(), j["states"].value("classes", nlohmann::json()).dump().c_str(),
                j.value("verified", nlohmann::json(0)).dump().c_str());
    EXPECT_TRUE(j["classes"].get<bool>()) << name;
    EXPECT_GT(j.value("verified", 0u), 0u) << name << ": nothing was verified";
  }
}

}  // namespace
}  // namespace torn::testing
