// The campaign database (campaign.h lists its tables and invariants) and what reads and writes it:
// shared by torn fuzz's run (campaign.cc), the merge of shards (merge.cc) and the shrinking of
// findings (shrink.cc). Internal to the campaign library.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "campaign/campaign.h"
#include "checker/shard.h"
#include "store/sqlite_db.h"

namespace torn::campaign {

// The campaign database's connection (store/sqlite_db.h).
using Db = store::SqliteDb;
// Opens (creating) a campaign database and makes its tables.
Result<std::unique_ptr<Db>> OpenCampaignDb(const std::string& path);

// Opens an existing database read-only (no tables made).
Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path);

std::map<std::string, std::string> ReadConfig(Db& db);

// One workload done: its row and its findings (per signature), written in one transaction by Store.
struct Row {
  int64_t id;
  std::string text, status, detail, possible = "0", covered = "0", trace;
  int64_t judged = 0, violations = 0;
  double record_seconds = 0, check_seconds = 0;
  struct F {
    std::string signature, oracle, detail, dropped;
    int64_t states = 0, crash_point = 0;
  };
  std::vector<F> findings;
};

Status Store(Db& db, const Row& r, const std::string& steps);
// A failing state's dropped entries as text ("12,13,...", at most 64).
std::string Dropped(const std::vector<size_t>& d);
// The whole campaign's figures and findings, from the database.
void Summarize(Db& db, CampaignResult& res);

// The workloads the options select (ids in the generation order, every K-th, the first N), then the
// shard's part of them: position mod N == K-1.
std::vector<int64_t> Selected(size_t generated, uint64_t every, uint64_t max_workloads, checker::Shard shard);

}  // namespace torn::campaign
