// campaign::MergeCampaigns on hand-made campaign databases (no VM): the shards of `torn fuzz --shard
// K/N` join into the whole campaign's rows, which ReadCampaign summarizes as the single campaign with
// the same rows; every refusal names the file and the shard; merging again changes nothing.
// The campaign: --length 1 --every 37 (148 one-step workloads: ids 0, 37, 74, 111; shard 1/2 holds
// positions 0 and 2, ids 0 and 74; shard 2/2 ids 37 and 111). campaign/fuzz_shard_vm_test.cc runs
// real shards in the lab VM.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/temp_file.h"
#include "campaign/campaign.h"

namespace torn::campaign {
namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE workloads(
  id INTEGER PRIMARY KEY, text TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  possible TEXT NOT NULL DEFAULT '0', covered TEXT NOT NULL DEFAULT '0', judged INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0, record_seconds REAL NOT NULL DEFAULT 0,
  check_seconds REAL NOT NULL DEFAULT 0, trace TEXT NOT NULL DEFAULT '');
CREATE TABLE findings(
  workload INTEGER NOT NULL REFERENCES workloads(id), signature TEXT NOT NULL, oracle TEXT NOT NULL,
  steps TEXT NOT NULL, states INTEGER NOT NULL, detail TEXT NOT NULL, crash_point INTEGER NOT NULL,
  dropped TEXT NOT NULL, PRIMARY KEY(workload, signature));
)SQL";

void Exec(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  std::string m = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << m << "\n" << sql;
}

std::string Workload(int id, bool failing, const std::string& trace = "") {
  std::string s = "INSERT INTO workloads VALUES(" + std::to_string(id) + ", 'w" + std::to_string(id) + "', '" +
                  (failing ? "violations" : "ok") + "', '', '" + std::to_string(100 + id) + "', '" +
                  std::to_string(100 + id) + "', 3, " + (failing ? "2" : "0") + ", 1.5, 0.25, '" + trace + "');";
  if (failing)
    s += "INSERT INTO findings VALUES(" + std::to_string(id) +
         ", 'at mark ''fsync'': f0 missing', 'data', 'write+fsync', 2, 'f0 missing', 7, '5,6');";
  return s;
}

// A campaign database: shard "" (whole) or "K/N", with the given workloads (ids; 74 and 111 fail).
std::string Make(const std::string& path, const std::string& shard, std::vector<int> ids,
                 const std::string& mount_opts = "") {
  std::string sql = kSchema;
  std::map<std::string, std::string> config = {{"fs", "ext4"}, {"mkfs_opts", ""}, {"mount_opts", mount_opts},
                                               {"max_length", "1"}, {"generator", "ace-1"}, {"shard", shard}};
  if (!shard.empty()) {
    config["every"] = "37";
    config["workloads"] = "0";
  }
  for (const auto& [k, v] : config) sql += "INSERT INTO config VALUES('" + k + "', '" + v + "');";
  for (int id : ids) {
    std::string trace;
    if (id == 74 || id == 111) {
      trace = path + ".traces/w" + std::to_string(id);
      std::filesystem::create_directories(trace);
      std::FILE* f = std::fopen((trace + "/workload.txt").c_str(), "w");
      std::fputs("creat f0\n", f);
      std::fclose(f);
    }
    sql += Workload(id, id == 74 || id == 111, trace);
  }
  Exec(path, sql);
  return path;
}

std::string Error(const Result<CampaignMerge>& r) { return r.ok() ? "(ok)" : r.status().message(); }

class CampaignMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::Create("torn-campaign-merge-");
    ASSERT_TRUE(t.ok());
    dir_ = std::make_unique<TempDir>(std::move(*t));
    d_ = dir_->path() + "/";
    s1_ = Make(d_ + "s1.db", "1/2", {0, 74});
    s2_ = Make(d_ + "s2.db", "2/2", {37, 111});
  }
  std::unique_ptr<TempDir> dir_;
  std::string d_, s1_, s2_;
};

TEST_F(CampaignMergeTest, TheUnionIsTheWholeCampaignAndMergingAgainChangesNothing) {
  std::string single = Make(d_ + "single.db", "", {0, 37, 74, 111});
  auto m = MergeCampaigns(d_ + "all.db", {s2_, s1_});
  ASSERT_TRUE(m.ok()) << Error(m);
  EXPECT_FALSE(m->unchanged);
  EXPECT_EQ(m->workloads, 4u);
  auto a = ReadCampaign(d_ + "all.db");
  auto b = ReadCampaign(single);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->done, 4u);
  EXPECT_EQ(a->with_violations, b->with_violations);
  EXPECT_EQ(a->possible, b->possible);
  EXPECT_EQ(a->covered, b->covered);
  EXPECT_EQ(a->judged, b->judged);
  ASSERT_EQ(a->findings.size(), 1u);
  ASSERT_EQ(b->findings.size(), 1u);
  EXPECT_EQ(a->findings[0].workloads, 2u);
  EXPECT_EQ(a->findings[0].states, b->findings[0].states);
  EXPECT_EQ(a->findings[0].first_workload, 74);
  EXPECT_EQ(a->findings[0].trace, d_ + "all.db.traces/w74");  // copied beside OUT
  EXPECT_TRUE(std::filesystem::exists(d_ + "all.db.traces/w111/workload.txt"));
  EXPECT_EQ(a->config.at("shard"), "");
  EXPECT_EQ(a->config.at("mount_opts"), "");

  auto again = MergeCampaigns(d_ + "all.db", {s1_, d_ + "all.db", s2_});
  ASSERT_TRUE(again.ok()) << Error(again);
  EXPECT_TRUE(again->unchanged);
  auto printed = MergeCampaigns(d_ + "all.db", {});
  ASSERT_TRUE(printed.ok()) << Error(printed);
  EXPECT_TRUE(printed->unchanged);
  EXPECT_TRUE(IsCampaignDb(d_ + "all.db"));
  EXPECT_FALSE(IsCampaignDb(d_ + "nothing.db"));
}

TEST_F(CampaignMergeTest, Refusals) {
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_})), "shards missing: 2/2 (of 1 given)");
  std::string c = Make(d_ + "c.db", "2/2", {37, 111});
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, s2_, c})),
            "shard 2/2 is given twice: in " + s2_ + " and in " + c);
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, s1_})), s1_ + " is given twice");
  std::string unfinished = Make(d_ + "u.db", "2/2", {37});
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, unfinished})),
            unfinished + " (shard 2/2) did not finish (1 of 2 workloads done): run its torn fuzz --shard 2/2 --db " +
                unfinished + " again to resume it, then merge");
  std::string stray = Make(d_ + "stray.db", "2/2", {37, 74, 111});
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, stray})),
            stray + " (shard 2/2) holds workload 74, which is not of its shard");
  std::string other = Make(d_ + "o.db", "2/2", {37, 111}, "barrier=0");
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, other})),
            other + " (shard 2/2) is not a part of the campaign in " + s1_ +
                " (shard 1/2): other options (mount_opts 'barrier=0', not '')");
  std::string three = Make(d_ + "t.db", "3/3", {111});
  EXPECT_NE(Error(MergeCampaigns(d_ + "x.db", {s1_, three})).find("different splits"), std::string::npos);
  std::string whole = Make(d_ + "w.db", "", {0, 37, 74, 111});
  EXPECT_EQ(Error(MergeCampaigns(d_ + "x.db", {s1_, s2_, whole})),
            whole + ": a whole campaign, not a shard (torn fuzz --shard K/N): nothing to merge it with");
  EXPECT_FALSE(std::filesystem::exists(d_ + "x.db"));
  // OUT holding another campaign, or other rows.
  EXPECT_NE(Error(MergeCampaigns(whole, {s1_, s2_})).find("holds another campaign"), std::string::npos);
  ASSERT_TRUE(MergeCampaigns(d_ + "all.db", {s1_, s2_}).ok());
  Exec(d_ + "all.db", "UPDATE workloads SET judged = 9 WHERE id = 37");
  EXPECT_EQ(Error(MergeCampaigns(d_ + "all.db", {s1_, s2_})),
            d_ + "all.db: holds workload 37 as no shard has it: not this campaign's merge; use another OUT");
}

TEST_F(CampaignMergeTest, AShardsDatabaseResumesThatShardOnly) {
  // Refused before any boot: the config is checked first (no VM needed to see the refusal).
  CampaignOptions o;
  o.db = s1_;
  o.max_length = 1;
  o.every = 37;
  o.shard = {2, 2};
  auto r = RunCampaign(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), s1_ + ": the database of shard 1/2, not 2/2: a shard's database resumes that shard only; use another --db");
  o.shard = {};
  r = RunCampaign(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not none (a whole campaign)"), std::string::npos) << r.status().message();
  o.shard = {1, 2};
  o.every = 5;
  r = RunCampaign(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), s1_ + ": a campaign with every '37', not '5'; use another --db");
  // A whole campaign's database from before shards (no shard in its config) is not taken for a shard.
  std::string old = Make(d_ + "old.db", "", {0});
  Exec(old, "DELETE FROM config WHERE key = 'shard'");
  o.db = old;
  o.every = 37;
  r = RunCampaign(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("the database of shard none (a whole campaign), not 1/2"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace torn::campaign
