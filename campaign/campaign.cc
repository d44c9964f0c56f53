#include "campaign/campaign.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <optional>
#include <map>
#include <regex>
#include <set>

#include "base/temp_file.h"

#include "base/interrupt.h"
#include "campaign/generate.h"
#include "campaign/record_batch.h"
#include "checker/run.h"
#include "oracles/verdict.h"
#include "campaign/campaign_db.h"
#include "store/stmt.h"  // the store's prepared-statement wrapper, header-only

namespace torn::campaign {
namespace fs = std::filesystem;
using store::Stmt;

namespace {

std::string ShardName(const std::string& v) { return v.empty() ? "none (a whole campaign)" : v; }

// The campaign's identity: a database made for other options is refused, not mixed. A shard's also
// holds the selection (every, workloads) its split is made of, and the shard: it resumes that shard
// only. Checked entirely before anything is written.
Status CheckConfig(Db& db, const CampaignOptions& o, const std::string& path) {
  std::map<std::string, std::string> want = {{"fs", o.fs}, {"mkfs_opts", o.mkfs_opts},
                                             {"mount_opts", o.mount_opts},
                                             {"max_length", std::to_string(o.max_length)},
                                             {"generator", "ace-1"},
                                             {"mount_every", std::to_string(o.mount_every)},
                                             {"host_mount", o.host_mount ? "1" : "0"},
                                             {"shard", o.shard.whole() ? "" : o.shard.str()}};
  if (!o.shard.whole()) {
    want["every"] = std::to_string(o.every);
    want["workloads"] = std::to_string(o.max_workloads);
  }
  std::map<std::string, std::string> have = ReadConfig(db);
  // A database from before shards: a whole campaign.
  if (!have.empty() && !have.count("shard")) have["shard"] = "";
  for (const auto& [k, v] : want) {
    auto h = have.find(k);
    if (h == have.end()) continue;
    if (k == "shard" && h->second != v)
      return BadInput(path + ": the database of shard " + ShardName(h->second) + ", not " + ShardName(v) +
                      ": a shard's database resumes that shard only; use another --db");
    if (h->second != v)
      return BadInput(path + ": a campaign with " + k + " '" + h->second + "', not '" + v + "'; use another --db");
  }
  for (const auto& [k, v] : want) {
    if (have.count(k)) continue;
    Stmt put(db.get(), "INSERT INTO config(key, value) VALUES(?, ?)");
    put.Bind(1, k).Bind(2, v);
    if (put.Step() != SQLITE_DONE) return IoError(path + ": cannot write the config");
  }
  return Status::Ok();
}

}  // namespace

std::string CampaignSignature(std::string_view sig) {
  static const std::regex op("'op[0-9]+-");
  return std::regex_replace(std::string(sig), op, "'");
}

BatchOptions CampaignBatchOptions(const CampaignOptions& o) {
  BatchOptions bo;
  bo.fs = o.fs;
  bo.mkfs_opts = o.mkfs_opts;
  bo.mount_opts = o.mount_opts;
  bo.kernel_image = o.kernel_image;
  bo.accel = o.accel;
  return bo;
}

checker::CheckOptions CampaignCheckOptions(const CampaignOptions& o, const std::string& trace, bool mount) {
  checker::CheckOptions co;
  co.trace = trace;
  if (mount) {
    co.oracles = {oracles::Oracle::kFsck, oracles::Oracle::kData, oracles::Oracle::kOrdering, oracles::Oracle::kMount};
    co.oracles_explicit = true;
  }
  co.host_mount = o.host_mount;
  co.space.max_states = o.states_per_workload;
  co.time_budget = std::chrono::duration_cast<std::chrono::milliseconds>(o.check_time);
  co.jobs = o.jobs;
  return co;
}

bool MountSampled(const CampaignOptions& o, int64_t id) {
  return o.mount_every > 0 && id % static_cast<int64_t>(o.mount_every) == 0;
}

std::string FindingSignature(const checker::Violation& v) {
  return CampaignSignature(v.signature.empty() ? v.detail : v.signature);
}

Result<CampaignResult> RunCampaign(const CampaignOptions& o) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto progress = [&](const std::string& s) {
    if (o.on_progress) o.on_progress(s);
  };
  if (o.db.empty()) return BadInput("torn fuzz needs --db FILE (the campaign database)");
  if (o.max_length < 1 || o.max_length > 3) return BadInput("--length must be 1, 2 or 3");
  if (o.every == 0 || o.per_boot == 0) return BadInput("--every and --per-boot must be positive");
  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenCampaignDb(o.db));
  TORN_RETURN_IF_ERROR(CheckConfig(*db, o, o.db));
  std::string dir = o.dir.empty() ? o.db + ".traces" : o.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(dir + ": " + ec.message());

  std::vector<std::string> all = GenerateWorkloads({.max_length = o.max_length});
  std::vector<int64_t> considered = Selected(all.size(), o.every, o.max_workloads, o.shard);
  std::vector<int64_t> todo;
  {
    Stmt s(db->get(), "SELECT 1 FROM workloads WHERE id = ?");
    for (int64_t id : considered) {
      s.Reset();
      s.Bind(1, id);
      if (s.Step() != SQLITE_ROW) todo.push_back(id);
    }
  }
  CampaignResult res;
  res.considered = considered.size();
  progress(std::to_string(todo.size()) + " of " + std::to_string(considered.size()) + " workloads to do" +
           (o.shard.whole() ? "" : " (shard " + o.shard.str() + ")"));

  // Recording and checking overlap: while the workloads of one boot are checked, the lab VM records
  // the next boot's (the guest takes one core under TCG, the checks the others).
  struct Pending {
    size_t next = 0, n = 0;
    std::vector<BatchItem> items;
    std::unique_ptr<TempDir> traces;
    std::future<Result<BatchResult>> rec;
  };
  auto start_batch = [&](size_t next) -> Result<Pending> {
    Pending p;
    p.next = next;
    p.n = std::min(o.per_boot, todo.size() - next);
    TORN_ASSIGN_OR_RETURN(TempDir traces, TempDir::Create("torn-fuzz-", dir));
    p.traces = std::make_unique<TempDir>(std::move(traces));
    for (size_t k = 0; k < p.n; ++k) {
      int64_t id = todo[next + k];
      p.items.push_back({all[static_cast<size_t>(id)], p.traces->path() + "/w" + std::to_string(id)});
    }
    BatchOptions bo = CampaignBatchOptions(o);
    bo.on_progress = o.on_progress;
    progress("recording workloads " + std::to_string(todo[next]) + ".." + std::to_string(todo[next + p.n - 1]));
    p.rec = std::async(std::launch::async, [bo, items = p.items] { return RecordBatch(bo, items); });
    return p;
  };
  auto out_of_time = [&] {
    return o.time_budget.count() > 0 && elapsed() >= static_cast<double>(o.time_budget.count());
  };
  std::optional<Pending> pending;
  if (!todo.empty() && !out_of_time()) {
    TORN_ASSIGN_OR_RETURN(Pending first, start_batch(0));
    pending = std::move(first);
  } else if (!todo.empty()) {
    res.budget_cut = true;
  }
  while (pending) {
    Pending cur = std::move(*pending);
    pending.reset();
    auto rec = cur.rec.get();
    if (!rec.ok()) return rec.status().with_context("recording");
    const size_t next = cur.next, n = cur.n;
    const std::vector<BatchItem>& items = cur.items;
    if (next + n < todo.size()) {
      TORN_RETURN_IF_ERROR(CheckInterrupted());
      if (out_of_time()) {
        res.budget_cut = true;
      } else {
        TORN_ASSIGN_OR_RETURN(Pending following, start_batch(next + n));
        pending = std::move(following);
      }
    }
    ++res.boots;
    res.record_seconds += rec->seconds;
    double per_record = rec->seconds / static_cast<double>(n);
    bool cut = false;
    for (size_t k = 0; k < n; ++k) {
      // The time budget holds within a batch too (checking a batch can take minutes, e.g. when the
      // lab VM replays fast commits): the workloads not checked stay to do, recorded again on resume.
      // At least one is checked per run, so that a short budget still makes progress.
      if (res.this_run > 0 && out_of_time()) {
        res.budget_cut = cut = true;
        break;
      }
      int64_t id = todo[next + k];
      const ItemResult& it = rec->items[k];
      Row row;
      row.id = id;
      row.text = items[k].workload;
      row.record_seconds = per_record;
      if (!it.status.ok()) {
        row.status = "record-failed";
        row.detail = it.status.message();
        ++res.record_failed;
      } else {
        if (!it.op_failures.empty()) row.detail = "operation failed: " + it.op_failures.front();
        checker::CheckOptions co = CampaignCheckOptions(o, items[k].out, MountSampled(o, id));
        auto t0 = std::chrono::steady_clock::now();
        auto check = checker::RunCheck(co);
        row.check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        res.check_seconds += row.check_seconds;
        if (!check.ok()) {
          if (check.status().code() == Code::kInterrupted) return check.status();
          row.status = "check-failed";
          row.detail = check.status().message();
          ++res.check_failed;
        } else {
          row.possible = check->possible;
          row.covered = check->covered;
          row.judged = static_cast<int64_t>(check->checked);
          std::map<std::string, Row::F> by_sig;
          std::set<uint64_t> states;
          for (const auto& v : check->violations) {
            std::string sig = FindingSignature(v);
            states.insert(v.state);
            auto [f, fresh] = by_sig.try_emplace(sig);
            if (fresh) {
              f->second.signature = sig;
              f->second.oracle = std::string(oracles::OracleName(v.oracle));
              f->second.detail = v.detail;
              f->second.crash_point = static_cast<int64_t>(v.crash_point);
              f->second.dropped = Dropped(v.dropped);
            }
            ++f->second.states;
          }
          row.violations = static_cast<int64_t>(states.size());
          for (auto& [s, f] : by_sig) row.findings.push_back(std::move(f));
          row.status = row.findings.empty() ? "ok" : "violations";
          if (check->budget_cut) row.detail += (row.detail.empty() ? "" : "; ") + std::string("check cut by its budget");
          if (!row.findings.empty()) {
            // Keep the trace: it is the reproducer (torn check DIR/w<id>).
            std::string keep = dir + "/w" + std::to_string(id);
            fs::remove_all(keep, ec);
            fs::rename(items[k].out, keep, ec);
            row.trace = ec ? items[k].out : keep;
            ++res.with_violations;
          }
        }
      }
      TORN_RETURN_IF_ERROR(Store(*db, row, StepsOf(row.text)));
      ++res.this_run;
      progress("workload " + std::to_string(id) + ": " + row.status + (row.detail.empty() ? "" : " (" + row.detail + ")"));
    }
    if (cut && pending) {
      (void)pending->rec.get();  // a recording started before the budget ran out: not checked
      pending.reset();
    }
  }

  // The whole campaign, from the database (this run and the ones before).
  Summarize(*db, res);
  res.seconds = elapsed();
  return res;
}

bool IsCampaignDb(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  auto db = OpenReadOnly(path);
  if (!db.ok()) return false;
  Stmt s((*db)->get(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'workloads'");
  return s.ok() && s.Step() == SQLITE_ROW;
}

Result<CampaignResult> ReadCampaign(const std::string& path) {
  if (!IsCampaignDb(path)) return BadInput(path + ": not a campaign database (torn fuzz --db)");
  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenReadOnly(path));
  CampaignResult res;
  Summarize(*db, res);
  res.considered = res.done;
  return res;
}

}  // namespace torn::campaign
