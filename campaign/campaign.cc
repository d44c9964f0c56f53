#include "campaign/campaign.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "base/temp_file.h"

#include "base/interrupt.h"
#include "campaign/generate.h"
#include "campaign/record_batch.h"
#include "checker/run.h"
#include "oracles/verdict.h"
#include "store/stmt.h"  // the store's prepared-statement wrapper, header-only

namespace torn::campaign {
namespace fs = std::filesystem;
using store::Stmt;

namespace {

constexpr const char* kSchema = R"SQL(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workloads(
  id INTEGER PRIMARY KEY, text TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
  possible TEXT NOT NULL DEFAULT '0', covered TEXT NOT NULL DEFAULT '0', judged INTEGER NOT NULL DEFAULT 0,
  violations INTEGER NOT NULL DEFAULT 0, record_seconds REAL NOT NULL DEFAULT 0,
  check_seconds REAL NOT NULL DEFAULT 0, trace TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS findings(
  workload INTEGER NOT NULL REFERENCES workloads(id), signature TEXT NOT NULL, oracle TEXT NOT NULL,
  steps TEXT NOT NULL, states INTEGER NOT NULL, detail TEXT NOT NULL, crash_point INTEGER NOT NULL,
  dropped TEXT NOT NULL, PRIMARY KEY(workload, signature));
)SQL";

class Db {
 public:
  ~Db() {
    if (db_) sqlite3_close(db_);
  }
  static Result<std::unique_ptr<Db>> Open(const std::string& path) {
    auto d = std::make_unique<Db>();
    if (sqlite3_open_v2(path.c_str(), &d->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
      return IoError(path + ": cannot open the campaign database: " + sqlite3_errmsg(d->db_));
    sqlite3_busy_timeout(d->db_, 10000);
    TORN_RETURN_IF_ERROR(d->Exec(kSchema).with_context(path));
    return d;
  }
  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      return IoError("sqlite: " + m);
    }
    return Status::Ok();
  }
  sqlite3* get() { return db_; }
  void Adopt(sqlite3* h) { db_ = h; }

 private:
  sqlite3* db_ = nullptr;
};

Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path) {
  auto d = std::make_unique<Db>();
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string m = h ? sqlite3_errmsg(h) : "?";
    if (h) sqlite3_close(h);
    return IoError(path + ": cannot open the campaign database: " + m);
  }
  d->Adopt(h);
  sqlite3_busy_timeout(h, 10000);
  return d;
}

std::map<std::string, std::string> ReadConfig(Db& db) {
  std::map<std::string, std::string> c;
  Stmt s(db.get(), "SELECT key, value FROM config");
  while (s.ok() && s.Step() == SQLITE_ROW) c[s.Text(0)] = s.Text(1);
  return c;
}

std::string ShardName(const std::string& v) { return v.empty() ? "none (a whole campaign)" : v; }

// The campaign's identity: a database made for other options is refused, not mixed. A shard's also
// holds the selection (every, workloads) its split is made of, and the shard: it resumes that shard
// only. Checked entirely before anything is written.
Status CheckConfig(Db& db, const CampaignOptions& o, const std::string& path) {
  std::map<std::string, std::string> want = {{"fs", o.fs}, {"mkfs_opts", o.mkfs_opts},
                                             {"mount_opts", o.mount_opts},
                                             {"max_length", std::to_string(o.max_length)},
                                             {"generator", "ace-1"},
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

// The workloads the options select (ids in the generation order, every K-th, the first N), then the
// shard's part of them: position mod N == K-1.
std::vector<int64_t> Selected(size_t generated, uint64_t every, uint64_t max_workloads, checker::Shard shard) {
  std::vector<int64_t> considered;
  uint64_t position = 0;
  for (size_t i = 0; i < generated; i += every, ++position) {
    if (max_workloads && position >= max_workloads) break;
    if (shard.Holds(position)) considered.push_back(static_cast<int64_t>(i));
  }
  return considered;
}

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

Status Store(Db& db, const Row& r, const std::string& steps) {
  TORN_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Stmt w(db.get(),
         "INSERT OR REPLACE INTO workloads(id, text, status, detail, possible, covered, judged, violations, "
         "record_seconds, check_seconds, trace) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  w.Bind(1, r.id).Bind(2, r.text).Bind(3, r.status).Bind(4, r.detail).Bind(5, r.possible).Bind(6, r.covered);
  w.Bind(7, r.judged).Bind(8, r.violations);
  w.Bind(9, std::to_string(r.record_seconds)).Bind(10, std::to_string(r.check_seconds)).Bind(11, r.trace);
  bool ok = w.Step() == SQLITE_DONE;
  for (const auto& f : r.findings) {
    if (!ok) break;
    Stmt s(db.get(),
           "INSERT OR REPLACE INTO findings(workload, signature, oracle, steps, states, detail, crash_point, "
           "dropped) VALUES(?,?,?,?,?,?,?,?)");
    s.Bind(1, r.id).Bind(2, f.signature).Bind(3, f.oracle).Bind(4, steps).Bind(5, f.states).Bind(6, f.detail);
    s.Bind(7, f.crash_point).Bind(8, f.dropped);
    ok = s.Step() == SQLITE_DONE;
  }
  if (!ok) {
    (void)db.Exec("ROLLBACK");
    return IoError(std::string("sqlite: cannot store workload ") + std::to_string(r.id) + ": " +
                   sqlite3_errmsg(db.get()));
  }
  return db.Exec("COMMIT");
}

std::string Dropped(const std::vector<size_t>& d) {
  std::string s;
  for (size_t i = 0; i < d.size() && i < 64; ++i) s += (i ? "," : "") + std::to_string(d[i]);
  if (d.size() > 64) s += ",...";
  return s;
}

// The whole campaign's figures and findings, from the database.
void Summarize(Db& d, CampaignResult& res) {
  Db* db = &d;
  Stmt s(db->get(), "SELECT count(*), coalesce(sum(judged), 0) FROM workloads");
  if (s.Step() == SQLITE_ROW) {
    res.done = static_cast<uint64_t>(s.Int(0));
    res.judged = static_cast<uint64_t>(s.Int(1));
  }
  Stmt v(db->get(),
         "SELECT count(*) FILTER (WHERE status = 'violations'), count(*) FILTER (WHERE status = 'record-failed'), "
         "count(*) FILTER (WHERE status = 'check-failed') FROM workloads");
  if (v.Step() == SQLITE_ROW) {
    res.with_violations = static_cast<uint64_t>(v.Int(0));
    res.record_failed = static_cast<uint64_t>(v.Int(1));
    res.check_failed = static_cast<uint64_t>(v.Int(2));
  }
  Stmt p(db->get(), "SELECT possible, covered FROM workloads");
  while (p.Step() == SQLITE_ROW) {
    res.possible += std::stod(p.Text(0));
    res.covered += std::stod(p.Text(1));
  }
  Stmt f(db->get(),
         "SELECT f.signature, f.oracle, count(DISTINCT f.workload), sum(f.states), min(f.workload) "
         "FROM findings f GROUP BY f.signature ORDER BY count(DISTINCT f.workload) DESC, f.signature");
  while (f.Step() == SQLITE_ROW) {
    Finding x;
    x.signature = f.Text(0);
    x.oracle = f.Text(1);
    x.workloads = static_cast<uint64_t>(f.Int(2));
    x.states = static_cast<uint64_t>(f.Int(3));
    x.first_workload = f.Int(4);
    Stmt one(db->get(),
             "SELECT w.text, f.steps, f.detail, w.trace FROM findings f JOIN workloads w ON w.id = f.workload "
             "WHERE f.workload = ? AND f.signature = ?");
    one.Bind(1, x.first_workload).Bind(2, x.signature);
    if (one.Step() == SQLITE_ROW) {
      x.first_text = one.Text(0);
      x.steps = one.Text(1);
      x.detail = one.Text(2);
      x.trace = one.Text(3);
    }
    res.findings.push_back(std::move(x));
  }
  res.config = ReadConfig(d);
}

}  // namespace

std::string CampaignSignature(std::string_view sig) {
  static const std::regex op("'op[0-9]+-");
  return std::regex_replace(std::string(sig), op, "'");
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
  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(o.db));
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

  for (size_t next = 0; next < todo.size();) {
    TORN_RETURN_IF_ERROR(CheckInterrupted());
    if (o.time_budget.count() > 0 && elapsed() >= static_cast<double>(o.time_budget.count())) {
      res.budget_cut = true;
      break;
    }
    size_t n = std::min(o.per_boot, todo.size() - next);
    std::vector<BatchItem> items;
    TORN_ASSIGN_OR_RETURN(TempDir traces, TempDir::Create("torn-fuzz-", dir));
    for (size_t k = 0; k < n; ++k) {
      int64_t id = todo[next + k];
      items.push_back({all[static_cast<size_t>(id)], traces.path() + "/w" + std::to_string(id)});
    }
    BatchOptions bo;
    bo.fs = o.fs;
    bo.mkfs_opts = o.mkfs_opts;
    bo.mount_opts = o.mount_opts;
    bo.kernel_image = o.kernel_image;
    bo.accel = o.accel;
    bo.on_progress = o.on_progress;
    progress("recording workloads " + std::to_string(todo[next]) + ".." + std::to_string(todo[next + n - 1]));
    auto rec = RecordBatch(bo, items);
    if (!rec.ok()) return rec.status().with_context("recording");
    ++res.boots;
    res.record_seconds += rec->seconds;
    double per_record = rec->seconds / static_cast<double>(n);
    for (size_t k = 0; k < n; ++k) {
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
        checker::CheckOptions co;
        co.trace = items[k].out;
        co.space.max_states = o.states_per_workload;
        co.time_budget = std::chrono::duration_cast<std::chrono::milliseconds>(o.check_time);
        co.jobs = o.jobs;
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
            std::string sig = CampaignSignature(v.signature.empty() ? v.detail : v.signature);
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
    next += n;
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

  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(out));
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
