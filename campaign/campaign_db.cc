#include "campaign/campaign_db.h"

#include "store/stmt.h"  // the store's prepared-statement wrapper, header-only

namespace torn::campaign {
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
CREATE TABLE IF NOT EXISTS shrunk(
  signature TEXT PRIMARY KEY, from_workload INTEGER NOT NULL, from_ops INTEGER NOT NULL, text TEXT NOT NULL,
  ops INTEGER NOT NULL, rounds INTEGER NOT NULL, recorded INTEGER NOT NULL, trace TEXT NOT NULL,
  minimization TEXT NOT NULL, note TEXT NOT NULL, seconds REAL NOT NULL);
)SQL";

}  // namespace

Result<std::unique_ptr<Db>> OpenCampaignDb(const std::string& path) {
  TORN_ASSIGN_OR_RETURN(Db db, Db::Open(path, Db::Mode::kCreate, "campaign database"));
  TORN_RETURN_IF_ERROR(db.Exec(kSchema));
  return std::make_unique<Db>(std::move(db));
}

Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path) {
  TORN_ASSIGN_OR_RETURN(Db db, Db::Open(path, Db::Mode::kReadOnly, "campaign database"));
  return std::make_unique<Db>(std::move(db));
}

std::map<std::string, std::string> ReadConfig(Db& db) {
  std::map<std::string, std::string> c;
  Stmt s(db.get(), "SELECT key, value FROM config");
  while (s.ok() && s.Step() == SQLITE_ROW) c[s.Text(0)] = s.Text(1);
  return c;
}

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
    // A database from before shrinking has no such table: the statement then does not prepare.
    Stmt sh(db->get(),
            "SELECT from_workload, from_ops, text, ops, rounds, recorded, trace, minimization, note, seconds "
            "FROM shrunk WHERE signature = ?");
    if (sh.ok()) {
      sh.Bind(1, x.signature);
      if (sh.Step() == SQLITE_ROW) {
        Shrunk k;
        k.signature = x.signature;
        k.from_workload = sh.Int(0);
        k.from_ops = static_cast<size_t>(sh.Int(1));
        k.text = sh.Text(2);
        k.ops = static_cast<size_t>(sh.Int(3));
        k.rounds = static_cast<size_t>(sh.Int(4));
        k.recorded = static_cast<size_t>(sh.Int(5));
        k.trace = sh.Text(6);
        k.minimization = sh.Text(7);
        k.note = sh.Text(8);
        k.seconds = std::stod(sh.Text(9));
        x.shrunk = std::move(k);
      }
    }
    res.findings.push_back(std::move(x));
  }
  res.config = ReadConfig(d);
}

std::vector<int64_t> Selected(size_t generated, uint64_t every, uint64_t max_workloads, checker::Shard shard) {
  std::vector<int64_t> considered;
  uint64_t position = 0;
  for (size_t i = 0; i < generated; i += every, ++position) {
    if (max_workloads && position >= max_workloads) break;
    if (shard.Holds(position)) considered.push_back(static_cast<int64_t>(i));
  }
  return considered;
}

}  // namespace torn::campaign
