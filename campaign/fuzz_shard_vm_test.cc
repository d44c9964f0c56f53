// Labelled vm: `torn fuzz --shard K/N` and `torn merge` over campaign databases (docs/scale.md).
// A tiny campaign (ext4 -O fast_commit, every 37th 1-step workload: 4 workloads) run whole, then as 2
// shards merged. The merged database is exactly the union of the shards' rows and its coverage their
// sum. With the single run it shares what a recording cannot decide: the workloads, each one's text
// and status, and the counts of workloads considered, done and failed to record. The findings are
// not compared with the single run: two recordings of one workload differ by a few log entries
// (timing inside the guest), so their crash states and which of them fail differ too (two single
// runs of a barrier=0 campaign gave 23 and 22 signatures; docs/scale.md).
// Also: a shard's database refuses another split; the merge refuses a missing, repeated, unfinished
// shard, another campaign's shard and a whole campaign; merging again changes nothing; the merged
// database resumes as the whole campaign with nothing left to do.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn {
namespace {

struct TornRun {
  int code = -1;
  nlohmann::json json;
  std::string output;
};

TornRun Torn(std::vector<std::string> args) {
  std::vector<std::string> argv = {TORN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunChild({.argv = argv, .timeout = std::chrono::minutes(10)});
  TornRun out;
  if (!r.ok()) return out;
  out.code = r->status.how == ExitStatus::How::kExited ? r->status.code : -1;
  out.output = r->output;
  auto brace = r->output.find("\n{");
  if (r->output.rfind('{', 0) == 0) brace = 0;
  else if (brace != std::string::npos) ++brace;
  if (brace != std::string::npos) out.json = nlohmann::json::parse(r->output.substr(brace), nullptr, false);
  return out;
}

const std::vector<std::string> kOptions = {"--mkfs-opts=-Ofast_commit", "--length", "1", "--every", "37",
                                           "--states", "300", "--check-time", "60", "--quiet", "--json"};

TornRun Fuzz(const std::string& db, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"fuzz", "--db", db};
  a.insert(a.end(), kOptions.begin(), kOptions.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return Torn(a);
}

std::vector<std::vector<std::string>> Rows(const std::string& db, const char* sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, sql, -1, &s, nullptr) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        std::vector<std::string> r;
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
          auto t = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
          r.push_back(t ? t : "");
        }
        rows.push_back(std::move(r));
      }
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return rows;
}

// The campaign's result without the run's own figures.
nlohmann::json Strip(nlohmann::json j) {
  for (const char* k : {"seconds", "record_seconds", "check_seconds", "this_run", "boots"}) j.erase(k);
  return j;
}

// What a recording cannot decide (the workloads' rows: kWorkloads).
nlohmann::json Comparable(const nlohmann::json& j) {
  nlohmann::json out;
  for (const char* k : {"considered", "done", "record_failed"}) out[k] = j[k];
  return out;
}

// The merge must carry every row of the shards exactly: kAll* (all columns but the trace's path).
constexpr const char* kWorkloads = "SELECT id, text, status FROM workloads ORDER BY id";
constexpr const char* kAllWorkloads =
    "SELECT id, text, status, detail, possible, covered, judged, violations, record_seconds, check_seconds "
    "FROM workloads ORDER BY id";
constexpr const char* kAllFindings = "SELECT * FROM findings ORDER BY workload, signature";

template <typename T>
T Union(T a, const T& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end(), [](const auto& x, const auto& y) {  // as ORDER BY: the id, a number, first
    return std::make_pair(std::stoll(x[0]), x) < std::make_pair(std::stoll(y[0]), y);
  });
  return a;
}

TEST(FuzzShardVm, TwoShardsMergedEqualTheSingleRun) {
  auto dir = TempDir::Create("torn-fuzz-shard-test-");
  ASSERT_TRUE(dir.ok());
  std::string d = dir->path() + "/";
  auto t0 = std::chrono::steady_clock::now();
  TornRun single = Fuzz(d + "single.db");
  ASSERT_TRUE(single.code == 0 || single.code == 1) << single.output;
  ASSERT_EQ(single.json["done"], 4) << single.output;

  TornRun s1 = Fuzz(d + "s1.db", {"--shard", "1/2"});
  ASSERT_TRUE(s1.code == 0 || s1.code == 1) << s1.output;
  EXPECT_EQ(s1.json["considered"], 2);
  EXPECT_EQ(s1.json["shard"], "1/2");
  // A shard's database resumes that shard only.
  TornRun wrong = Fuzz(d + "s1.db", {"--shard", "2/2"});
  EXPECT_EQ(wrong.code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("resumes that shard only"), std::string::npos) << wrong.output;
  TornRun whole = Fuzz(d + "s1.db");
  EXPECT_EQ(whole.code, 2) << whole.output;
  // Missing shard.
  TornRun missing = Torn({"merge", d + "all.db", d + "s1.db"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("shards missing: 2/2"), std::string::npos) << missing.output;

  TornRun s2 = Fuzz(d + "s2.db", {"--shard", "2/2"});
  ASSERT_TRUE(s2.code == 0 || s2.code == 1) << s2.output;
  EXPECT_EQ(s2.json["considered"], 2);
  double sharded = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Refusals, before anything is merged.
  std::filesystem::copy_file(d + "s2.db", d + "other.db");
  ASSERT_TRUE(Rows(d + "other.db", "SELECT 1").size() == 1);
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(( d + "other.db").c_str(), &h), SQLITE_OK);
    sqlite3_exec(h, "UPDATE config SET value = 'barrier=0' WHERE key = 'mount_opts'", nullptr, nullptr, nullptr);
    sqlite3_close(h);
  }
  TornRun other = Torn({"merge", d + "x.db", d + "s1.db", d + "other.db"});
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.output.find("is not a part of the campaign"), std::string::npos) << other.output;
  EXPECT_NE(other.output.find("mount_opts"), std::string::npos) << other.output;
  std::filesystem::copy_file(d + "s2.db", d + "unfinished.db");
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((d + "unfinished.db").c_str(), &h), SQLITE_OK);
    sqlite3_exec(h, "DELETE FROM findings WHERE workload = (SELECT max(id) FROM workloads);"
                    "DELETE FROM workloads WHERE id = (SELECT max(id) FROM workloads)",
                 nullptr, nullptr, nullptr);
    sqlite3_close(h);
  }
  TornRun unfinished = Torn({"merge", d + "x.db", d + "s1.db", d + "unfinished.db"});
  EXPECT_EQ(unfinished.code, 2);
  EXPECT_NE(unfinished.output.find("did not finish (1 of 2 workloads done)"), std::string::npos) << unfinished.output;
  TornRun twice = Torn({"merge", d + "x.db", d + "s2.db", d + "unfinished.db"});
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.output.find("shard 2/2 is given twice"), std::string::npos) << twice.output;
  TornRun with_whole = Torn({"merge", d + "x.db", d + "s1.db", d + "s2.db", d + "single.db"});
  EXPECT_EQ(with_whole.code, 2);
  EXPECT_NE(with_whole.output.find("a whole campaign, not a shard"), std::string::npos) << with_whole.output;
  EXPECT_FALSE(std::filesystem::exists(d + "x.db"));

  // The merge: the single run's workloads, the shards' rows.
  TornRun merged = Torn({"merge", d + "all.db", d + "s2.db", d + "s1.db", "--json"});
  ASSERT_TRUE(merged.code == 0 || merged.code == 1) << merged.output;
  EXPECT_EQ(merged.code, std::max(s1.code, s2.code)) << merged.output;  // 1: a shard has findings
  EXPECT_EQ(Comparable(merged.json), Comparable(single.json)) << merged.json.dump(2) << single.json.dump(2);
  EXPECT_EQ(Rows(d + "all.db", kWorkloads), Rows(d + "single.db", kWorkloads));
  EXPECT_EQ(merged.json["shard"], "");
  // Lossless: exactly the shards' rows (all columns but the trace's path).
  EXPECT_EQ(Rows(d + "all.db", kAllWorkloads), Union(Rows(d + "s1.db", kAllWorkloads), Rows(d + "s2.db", kAllWorkloads)));
  EXPECT_EQ(Rows(d + "all.db", kAllFindings), Union(Rows(d + "s1.db", kAllFindings), Rows(d + "s2.db", kAllFindings)));
  for (const char* k : {"states_possible", "states_covered", "states_judged"})
    EXPECT_EQ(merged.json[k].get<double>(), s1.json[k].get<double>() + s2.json[k].get<double>()) << k;
  for (const auto& f : merged.json["findings"]) {
    EXPECT_TRUE(std::filesystem::exists(f["trace"].get<std::string>() + "/workload.txt")) << f.dump();
    EXPECT_EQ(f["trace"].get<std::string>().rfind(d + "all.db.traces/w", 0), 0u) << f.dump();
  }

  // Idempotent: again, in another order, with OUT among the inputs.
  auto before = Rows(d + "all.db", "SELECT * FROM workloads ORDER BY id");
  TornRun again = Torn({"merge", d + "all.db", d + "s1.db", d + "all.db", d + "s2.db", "--json"});
  EXPECT_EQ(again.code, merged.code) << again.output;
  EXPECT_NE(again.output.find("nothing changed"), std::string::npos) << again.output;
  EXPECT_EQ(Rows(d + "all.db", "SELECT * FROM workloads ORDER BY id"), before);
  TornRun printed = Torn({"merge", d + "all.db", "--json"});
  EXPECT_EQ(Strip(printed.json), Strip(merged.json));
  // The merged database is the whole campaign's: torn fuzz finds nothing left to do (no boot).
  TornRun resumed = Fuzz(d + "all.db");
  EXPECT_EQ(resumed.code, merged.code) << resumed.output;
  EXPECT_EQ(resumed.json["this_run"], 0);
  EXPECT_EQ(resumed.json["boots"], 0);
  EXPECT_EQ(Strip(resumed.json), Strip(merged.json));
  std::cerr << "single and 2 shards merged: " << single.json["done"] << " workloads, "
            << single.json["findings"].size() << " signatures; single " << single.json["seconds"]
            << " s, everything with the shards " << sharded << " s\n";
}

}  // namespace
}  // namespace torn
