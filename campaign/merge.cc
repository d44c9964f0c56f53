#include "campaign/campaign.h"

#include <filesystem>
#include <map>
#include <set>

#include "campaign/campaign_db.h"
#include "campaign/generate.h"
#include "store/stmt.h"  // the store's prepared-statement wrapper, header-only

// MergeCampaigns (campaign.h): the shards' rows into one campaign database, refusals first.
namespace torn::campaign {
namespace fs = std::filesystem;
using store::Stmt;

namespace {

using Rows = std::vector<std::vector<std::string>>;

constexpr const char* kWorkloadCols =
    "id, text, status, detail, possible, covered, judged, violations, record_seconds, check_seconds, trace";
constexpr size_t kTraceCol = 10;
constexpr const char* kFindingCols = "workload, signature, oracle, steps, states, detail, crash_point, dropped";

Rows ReadRows(Db& db, const std::string& sql) {
  Rows rows;
  Stmt s(db.get(), sql.c_str());
  while (s.ok() && s.Step() == SQLITE_ROW) {
    std::vector<std::string> r;
    for (int c = 0; c < s.Columns(); ++c) r.push_back(s.Text(c));
    rows.push_back(std::move(r));
  }
  return rows;
}

struct Part {
  std::string path;
  checker::Shard shard;
  std::map<std::string, std::string> config;
  Rows workloads, findings;
};

std::string Options(const std::map<std::string, std::string>& c) {
  std::string s;
  for (const auto& [k, v] : c)
    if (k != "shard") s += (s.empty() ? "" : ", ") + k + "='" + v + "'";
  return s;
}

}  // namespace

Result<CampaignMerge> MergeCampaigns(const std::string& out, const std::vector<std::string>& inputs) {
  std::error_code ec;
  auto same_file = [&](const std::string& a, const std::string& b) {
    std::error_code e;
    return fs::exists(a, e) && fs::exists(b, e) && fs::equivalent(a, b, e);
  };
  if (fs::exists(out, ec) && fs::file_size(out, ec) > 0 && !IsCampaignDb(out))
    return BadInput(out + ": not a campaign database (a check's?); merge the campaign into another OUT");
  CampaignMerge merge;
  std::vector<Part> parts;
  for (const auto& in : inputs) {
    if (same_file(in, out)) {
      merge.inputs.push_back(in + ": the output itself, skipped");
      continue;
    }
    bool dup = false;
    for (const auto& p : parts)
      if (same_file(p.path, in)) dup = true;
    if (dup) return BadInput(in + " is given twice");
    if (!IsCampaignDb(in)) return BadInput(in + ": not a campaign database (torn fuzz --shard K/N --db FILE)");
    TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenReadOnly(in));
    Part p;
    p.path = in;
    p.config = ReadConfig(*db);
    std::string shard = p.config.count("shard") ? p.config["shard"] : "";
    if (shard.empty())
      return BadInput(in + ": a whole campaign, not a shard (torn fuzz --shard K/N): nothing to merge it with");
    auto k = checker::ParseShard(shard);
    if (!k.ok()) return BadInput(in + ": shard '" + shard + "': " + k.status().message());
    p.shard = *k;
    p.workloads = ReadRows(*db, std::string("SELECT ") + kWorkloadCols + " FROM workloads ORDER BY id");
    p.findings =
        ReadRows(*db, std::string("SELECT ") + kFindingCols + " FROM findings ORDER BY workload, signature");
    parts.push_back(std::move(p));
  }
  if (parts.empty()) {
    TORN_ASSIGN_OR_RETURN(CampaignResult r, ReadCampaign(out));
    merge.workloads = r.done;
    merge.unchanged = true;
    return merge;
  }

  // One campaign, one split, every shard once, each finished.
  const Part& first = parts.front();
  auto name = [](const Part& p) { return p.path + " (shard " + p.shard.str() + ")"; };
  for (const Part& p : parts) {
    std::map<std::string, std::string> a = first.config, b = p.config;
    a.erase("shard");
    b.erase("shard");
    if (a != b) {
      std::string key;
      for (const auto& [k, v] : a)
        if (!b.count(k) || b[k] != v) { key = k; break; }
      if (key.empty())
        for (const auto& [k, v] : b)
          if (!a.count(k)) { key = k; break; }
      return BadInput(name(p) + " is not a part of the campaign in " + name(first) + ": other options (" + key +
                      " '" + (b.count(key) ? b[key] : "") + "', not '" + (a.count(key) ? a[key] : "") + "')");
    }
    if (p.shard.count != first.shard.count)
      return BadInput(name(p) + " and " + name(first) + " are shards of different splits (N = " +
                      std::to_string(p.shard.count) + " and " + std::to_string(first.shard.count) + ")");
  }
  std::map<uint32_t, const Part*> by_index;
  for (const Part& p : parts) {
    auto [it, fresh] = by_index.emplace(p.shard.index, &p);
    if (!fresh)
      return BadInput("shard " + p.shard.str() + " is given twice: in " + it->second->path + " and in " + p.path);
  }
  std::string missing;
  for (uint32_t k = 1; k <= first.shard.count; ++k)
    if (!by_index.count(k))
      missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(first.shard.count);
  if (!missing.empty())
    return BadInput("shards missing: " + missing + " (of " + std::to_string(parts.size()) + " given)");

  std::map<std::string, std::string> config = first.config;
  config["shard"] = "";
  int max_length = 0;
  uint64_t every = 0, max_workloads = 0;
  try {
    max_length = std::stoi(config.at("max_length"));
    every = std::stoull(config.at("every"));
    max_workloads = std::stoull(config.at("workloads"));
  } catch (const std::exception&) {
    return BadInput(first.path + ": its config lacks the selection (max_length, every, workloads)");
  }
  if (max_length < 1 || max_length > 3 || every == 0) return BadInput(first.path + ": a config out of range");
  size_t generated = GenerateWorkloads({.max_length = max_length}).size();
  for (const Part& p : parts) {
    std::vector<int64_t> want = Selected(generated, every, max_workloads, p.shard);
    std::set<int64_t> have;
    for (const auto& r : p.workloads) have.insert(std::stoll(r[0]));
    for (int64_t id : have)
      if (!std::binary_search(want.begin(), want.end(), id))
        return BadInput(name(p) + " holds workload " + std::to_string(id) + ", which is not of its shard");
    if (have.size() != want.size())
      return BadInput(name(p) + " did not finish (" + std::to_string(have.size()) + " of " +
                      std::to_string(want.size()) + " workloads done): run its torn fuzz --shard " +
                      p.shard.str() + " --db " + p.path + " again to resume it, then merge");
    merge.inputs.push_back(name(p) + ": " + std::to_string(have.size()) + " workloads, " +
                           std::to_string(p.findings.size()) + " findings");
  }

  // The union, with the failing workloads' traces beside OUT.
  std::string traces = out + ".traces";
  std::map<int64_t, std::vector<std::string>> workloads;
  std::map<std::pair<int64_t, std::string>, std::vector<std::string>> findings;
  for (const Part& p : parts) {
    for (auto r : p.workloads) {
      int64_t id = std::stoll(r[0]);
      if (!r[kTraceCol].empty()) {
        std::string dest = traces + "/w" + std::to_string(id);
        if (fs::exists(r[kTraceCol], ec)) {
          if (!fs::exists(dest, ec)) {
            fs::create_directories(traces, ec);
            fs::copy(r[kTraceCol], dest, fs::copy_options::recursive, ec);
            if (ec) return IoError(dest + ": cannot copy the trace of workload " + std::to_string(id) + ": " + ec.message());
          }
          r[kTraceCol] = dest;
        }
      }
      workloads[id] = std::move(r);
    }
    for (const auto& f : p.findings) findings[{std::stoll(f[0]), f[1]}] = f;
  }

  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenCampaignDb(out));
  std::map<std::string, std::string> have = ReadConfig(*db);
  if (!have.empty() && have != config)
    return BadInput(out + ": holds another campaign (" + Options(have) + (have["shard"].empty() ? "" : ", shard " + have["shard"]) +
                    "), not the merge of " + first.path + "'s (" + Options(config) + "); use another OUT");
  Rows old_w = ReadRows(*db, std::string("SELECT ") + kWorkloadCols + " FROM workloads ORDER BY id");
  Rows old_f = ReadRows(*db, std::string("SELECT ") + kFindingCols + " FROM findings ORDER BY workload, signature");
  for (const auto& r : old_w) {
    auto it = workloads.find(std::stoll(r[0]));
    auto a = r, b = it == workloads.end() ? std::vector<std::string>() : it->second;
    if (!b.empty()) a[kTraceCol] = b[kTraceCol] = "";
    if (a != b)
      return BadInput(out + ": holds workload " + r[0] + (b.empty() ? ", which no shard has" : " as no shard has it") +
                      ": not this campaign's merge; use another OUT");
  }
  for (const auto& r : old_f) {
    auto it = findings.find({std::stoll(r[0]), r[1]});
    if (it == findings.end() || it->second != r)
      return BadInput(out + ": holds a finding of workload " + r[0] + " that the shards do not: use another OUT");
  }
  merge.workloads = workloads.size();
  if (have == config && old_w.size() == workloads.size() && old_f.size() == findings.size()) {
    merge.unchanged = true;
    return merge;
  }
  TORN_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  bool ok = true;
  std::string err;
  auto fail = [&](const char* what) {
    ok = false;
    err = std::string(what) + ": " + sqlite3_errmsg(db->get());
  };
  if (have.empty()) {
    for (const auto& [k, v] : config) {
      Stmt put(db->get(), "INSERT INTO config(key, value) VALUES(?, ?)");
      put.Bind(1, k).Bind(2, v);
      if (ok && put.Step() != SQLITE_DONE) fail("config");
    }
  }
  for (const auto& [id, r] : workloads) {
    Stmt w(db->get(), (std::string("INSERT OR IGNORE INTO workloads(") + kWorkloadCols +
                       ") VALUES(?,?,?,?,?,?,?,?,?,?,?)").c_str());
    for (size_t c = 0; c < r.size(); ++c) w.Bind(static_cast<int>(c + 1), r[c]);
    if (ok && w.Step() != SQLITE_DONE) fail("workloads");
  }
  for (const auto& [key, r] : findings) {
    Stmt f(db->get(), (std::string("INSERT OR IGNORE INTO findings(") + kFindingCols + ") VALUES(?,?,?,?,?,?,?,?)").c_str());
    for (size_t c = 0; c < r.size(); ++c) f.Bind(static_cast<int>(c + 1), r[c]);
    if (ok && f.Step() != SQLITE_DONE) fail("findings");
  }
  if (!ok) {
    (void)db->Exec("ROLLBACK");
    return IoError(out + ": cannot write the merge: " + err);
  }
  TORN_RETURN_IF_ERROR(db->Exec("COMMIT"));
  return merge;
}

}  // namespace torn::campaign
