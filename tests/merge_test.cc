// torn check --shard K/N and torn merge, end to end through the binary (checker/shard.h,
// checker/merge.h, docs/scale.md): the merged result of the shards is the single run's — coverage,
// verdicts, violation numbering, JSON, JUnit, the human report — but for the run's own figures (time,
// images judged: a class met in two shards is judged in each); merging is idempotent; shards of another
// check, overlapping, missing or unfinished shards are refused with the file and the shard named; a
// shard resumes only itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

struct Out {
  int rc = -1;
  std::string text;  // stdout and stderr, merged
};

Out Torn(const std::vector<std::string>& args) {
  RunResult r = RunTorn(args, 600);
  return {r.status.how == ExitStatus::How::kExited ? r.status.code : -1, r.output};
}

nlohmann::json Json(const Out& o) {
  size_t brace = o.text.find('{');  // stderr's lines come before it
  auto j = nlohmann::json::parse(o.text.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << o.text;
  return j;
}

// What a run's JSON says that is the run's own doing, not the check's, is left out of the comparison;
// so is torn check's triage ("signatures": it minimizes violations on the trace, which torn merge does
// not do).
nlohmann::json Comparable(nlohmann::json j) {
  for (const char* k : {"seconds", "distinct_images", "reused_after_replay", "resumed", "mount_boots", "verified",
                        "signatures"})
    j.erase(k);
  return j;
}

// The signatures as grouped (torn check also minimizes the first few; torn merge only groups): the same
// groups, counts and representatives either way.
nlohmann::json Groups(const nlohmann::json& j) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : j["signatures"]) {
    nlohmann::json k;
    for (const char* f : {"id", "oracle", "signature", "detail", "states", "covered", "classes", "crash_points",
                          "representative"})
      k[f] = g[f];
    out.push_back(k);
  }
  return out;
}

// The human report without the lines of stderr (progress, notices) and its one line of run figures:
// the header, the verdict tables, the verdict line; the violations themselves are compared in the JSON
// (torn check lists them by signature, torn merge one by one).
std::string Report(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool listing = false;
  while (std::getline(in, line)) {
    if (line.starts_with("torn") || line.starts_with("checked ") || line.find("distinct images judged") != std::string::npos)
      continue;
    if (line.starts_with("PASS:") || line.starts_with("FAIL:")) {
      out += line + "\n";
      break;
    }
    listing = listing || line.starts_with("#") || line.find("signature") != std::string::npos;
    if (!listing) out += line + "\n";
  }
  return out;
}

std::string Junit(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return std::regex_replace(s.str(), std::regex(R"( time="[^"]*")"), "");
}

class Merge : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("torn-merge-");
    ASSERT_TRUE(d.ok());
    dir_.emplace(std::move(d).value());
  }
  std::string P(const std::string& name) const { return dir_->path() + "/" + name; }
  // torn check of the parameter's trace with this test's options, and extra ones.
  Out Check(std::vector<std::string> extra) {
    std::vector<std::string> args = {"check", Corpus(GetParam()), "--budget", "60", "--jobs", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Torn(args);
  }
  std::optional<TempDir> dir_;
};

TEST_P(Merge, ShardsMergeIntoTheSingleRunsResult) {
  Out single = Check({"--db", P("single.db"), "--junit", P("single.xml")});
  Out single_json = Check({"--db", P("single.db"), "--json"});  // resumed: the same result as JSON
  ASSERT_TRUE(single.rc == 0 || single.rc == 1) << single.text;
  Out s1 = Check({"--shard", "1/2", "--db", P("s1.db"), "--json"});
  Out s2 = Check({"--shard", "2/2", "--db", P("s2.db"), "--json"});
  ASSERT_TRUE(s1.rc == 0 || s1.rc == 1) << s1.text;
  ASSERT_TRUE(s2.rc == 0 || s2.rc == 1) << s2.text;
  nlohmann::json j1 = Json(s1), j2 = Json(s2), js = Json(single_json);
  EXPECT_EQ(j1["shard"], "1/2");
  EXPECT_FALSE(js.contains("shard"));
  // Disjoint parts whose union is the whole.
  EXPECT_EQ(j1["states"]["generated"].get<uint64_t>() + j2["states"]["generated"].get<uint64_t>(),
            js["states"]["generated"].get<uint64_t>());
  EXPECT_EQ(j1["states"]["checked"].get<uint64_t>() + j2["states"]["checked"].get<uint64_t>(),
            js["states"]["checked"].get<uint64_t>());

  Out merged = Torn({"merge", P("m.db"), P("s1.db"), P("s2.db"), "--junit", P("m.xml")});
  EXPECT_EQ(merged.rc, single.rc) << merged.text;
  EXPECT_EQ(Report(merged.text), Report(single.text));
  EXPECT_EQ(Junit(P("m.xml")), Junit(P("single.xml")));
  Out merged_json = Torn({"merge", P("m.db"), P("s1.db"), P("s2.db"), "--json"});
  EXPECT_NE(merged_json.text.find("nothing changed"), std::string::npos) << merged_json.text;
  nlohmann::json jm = Json(merged_json);
  EXPECT_EQ(Comparable(jm), Comparable(js)) << jm.dump(1) << "\n" << js.dump(1);
  EXPECT_EQ(Groups(jm), Groups(js));
  if (single.rc == 1) EXPECT_FALSE(Groups(jm).empty());

  // Idempotent: again, with itself, and printing what OUT holds; one run in OUT.
  for (std::vector<std::string> args : {std::vector<std::string>{"merge", P("m.db"), P("m.db"), "--json"},
                                        std::vector<std::string>{"merge", P("m.db"), "--json"}}) {
    Out again = Torn(args);
    EXPECT_EQ(again.rc, single.rc) << again.text;
    EXPECT_EQ(Comparable(Json(again)), Comparable(js));
  }
  // The merged database is the whole check's: torn check with the same options finds it finished.
  Out resumed = Check({"--db", P("m.db"), "--json"});
  nlohmann::json jr = Json(resumed);
  EXPECT_EQ(jr["resumed"], js["states"]["checked"]);
  EXPECT_EQ(Comparable(jr), Comparable(js));
  // A copy of a merged database merges into a new file as it is.
  Out copy = Torn({"merge", P("copy.db"), P("m.db"), "--json"});
  EXPECT_EQ(Comparable(Json(copy)), Comparable(js)) << copy.text;
}

TEST_P(Merge, RefusesWhatIsNotOneCheckSplitOnce) {
  ASSERT_LE(Check({"--shard", "1/2", "--db", P("s1.db")}).rc, 1);
  ASSERT_LE(Check({"--shard", "2/2", "--db", P("s2.db")}).rc, 1);
  std::filesystem::copy_file(P("s1.db"), P("s1-copy.db"));
  auto refused = [&](std::vector<std::string> inputs, const std::string& says) {
    std::vector<std::string> args = {"merge", P("out.db")};
    args.insert(args.end(), inputs.begin(), inputs.end());
    Out o = Torn(args);
    EXPECT_EQ(o.rc, 2) << o.text;
    EXPECT_NE(o.text.find(says), std::string::npos) << "wanted: " << says << "\ngot: " << o.text;
  };
  refused({P("s1.db")}, "shards missing: 2/2");
  refused({P("s1.db"), P("s1-copy.db"), P("s2.db")}, "shard 1/2 is given twice: in " + P("s1.db") + " and in " +
                                                          P("s1-copy.db"));
  ASSERT_LE(Check({"--shard", "2/3", "--db", P("t2.db")}).rc, 1);
  refused({P("s1.db"), P("t2.db")}, "splits into 2 and 3 shards");
  ASSERT_LE(Check({"--shard", "2/2", "--db", P("seed.db"), "--seed", "7"}).rc, 1);
  refused({P("s1.db"), P("seed.db")}, P("seed.db") + " (shard 2/2) is not a part of the check in " + P("s1.db") +
                                          " (shard 1/2): other options (seed)");
  const char* other = std::string(GetParam()) == "ext4-long" ? "ext4-default" : "ext4-long";
  ASSERT_LE(Torn({"check", Corpus(other), "--budget", "60", "--jobs", "2", "--shard", "2/2", "--db", P("o.db")}).rc, 1);
  refused({P("s1.db"), P("o.db")}, "another trace");
  refused({P("missing.db"), P("s2.db")}, P("missing.db") + ": no such database");
  // An unfinished shard (killed, or its time budget ran out): named, with how to resume it.
  std::filesystem::copy_file(P("s2.db"), P("s2-unfinished.db"));
  RunResult sql = RunChild({.argv = {"sqlite3", P("s2-unfinished.db"), "UPDATE runs SET finished = NULL"}}).value();
  ASSERT_TRUE(sql.status.success()) << sql.output;
  refused({P("s1.db"), P("s2-unfinished.db")}, P("s2-unfinished.db") + " (shard 2/2) did not finish");
  // A merge refused leaves OUT without the check; the whole run and a shard of it overlap.
  ASSERT_LE(Torn({"merge", P("m.db"), P("s1.db"), P("s2.db")}).rc, 1);
  refused({P("m.db"), P("s2.db")}, "holds the whole check (unsharded or merged) and " + P("s2.db") +
                                       " (shard 2/2) overlaps it");
  // A shard resumes only itself: shard 1/2 again finds everything stored, shard 2/2 in its file is new.
  nlohmann::json again = Json(Check({"--shard", "1/2", "--db", P("s1.db"), "--json"}));
  EXPECT_EQ(again["resumed"], again["states"]["checked"]);
  nlohmann::json other_shard = Json(Check({"--shard", "2/2", "--db", P("s1.db"), "--json"}));
  EXPECT_EQ(other_shard["resumed"], 0);
}

// ext4-nobarrier: violations (numbering, JUnit failures, the reproduce command); ext4-long: classes
// reduced, covered == possible across shards.
INSTANTIATE_TEST_SUITE_P(Corpus, Merge, ::testing::Values("ext4-nobarrier", "ext4-long"));

}  // namespace
}  // namespace torn::testing
