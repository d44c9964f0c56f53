#include "store/store.h"

#include <sqlite3.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "store/stmt.h"

namespace torn::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS traces(
  id INTEGER PRIMARY KEY, path TEXT NOT NULL, log_sha256 TEXT NOT NULL UNIQUE,
  entries INTEGER NOT NULL, sectorsize INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY, trace_id INTEGER NOT NULL REFERENCES traces(id), key TEXT NOT NULL UNIQUE,
  options TEXT NOT NULL, started TEXT NOT NULL DEFAULT (datetime('now')), finished TEXT,
  possible TEXT, generated INTEGER, strategy TEXT, plan TEXT);
CREATE TABLE IF NOT EXISTS states(
  run_id INTEGER NOT NULL REFERENCES runs(id), state_id INTEGER NOT NULL, model TEXT NOT NULL,
  segment INTEGER NOT NULL, crash_point INTEGER NOT NULL, base_end INTEGER NOT NULL,
  dropped TEXT NOT NULL, torn TEXT NOT NULL, digest TEXT NOT NULL, reused_from INTEGER,
  covers TEXT NOT NULL DEFAULT '1', class_key TEXT NOT NULL DEFAULT '', fixed TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY(run_id, state_id));
CREATE TABLE IF NOT EXISTS verdicts(
  run_id INTEGER NOT NULL, state_id INTEGER NOT NULL, oracle TEXT NOT NULL, ok INTEGER NOT NULL,
  detail TEXT NOT NULL, output TEXT NOT NULL, signature TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(run_id, state_id, oracle),
  FOREIGN KEY(run_id, state_id) REFERENCES states(run_id, state_id));
)sql";

}  // namespace

Store::Store(Store&& o) noexcept : db_(std::move(o.db_)), mu_(std::move(o.mu_)) {}
Store::~Store() = default;

Status Store::Exec(const std::string& sql) { return db_.Exec(sql); }

Result<Store> Store::Open(const std::string& path) {
  Store s;
  TORN_ASSIGN_OR_RETURN(s.db_, SqliteDb::Open(path, SqliteDb::Mode::kCreate));
  // WAL with synchronous=NORMAL: a commit is in the WAL file (in the page cache) when SaveState
  // returns, not fsync'ed. That survives kill -9 of torn (the resume guarantee: the kernel still holds
  // the pages) but not a power cut of the host, which may lose the last states; they are then checked
  // again, never half-stored (each state is one transaction). FULL would fsync at every state.
  TORN_RETURN_IF_ERROR(s.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  Status st = s.Exec(kSchema);
  if (!st.ok()) return BadInput(st.message() + " (is it a torn database?)");
  TORN_RETURN_IF_ERROR(s.Migrate());
  return s;
}

// A database written before classes has no covers/class_key/fixed columns: add them (the defaults
// say what such a state was: one state, no class).
Status Store::Migrate() {
  std::vector<std::string> have;
  {
    Stmt q(db_.get(), "SELECT name FROM pragma_table_info('states')");
    while (q.Step() == SQLITE_ROW) have.push_back(q.Text(0));
  }
  auto missing = [&](const char* c) { return std::find(have.begin(), have.end(), c) == have.end(); };
  if (missing("covers")) TORN_RETURN_IF_ERROR(Exec("ALTER TABLE states ADD COLUMN covers TEXT NOT NULL DEFAULT '1'"));
  if (missing("class_key"))
    TORN_RETURN_IF_ERROR(Exec("ALTER TABLE states ADD COLUMN class_key TEXT NOT NULL DEFAULT ''"));
  if (missing("fixed")) TORN_RETURN_IF_ERROR(Exec("ALTER TABLE states ADD COLUMN fixed TEXT NOT NULL DEFAULT '[]'"));
  // Signatures (a database from before them: verdicts without one; torn check's triage reads '' as
  // "recompute from the detail").
  {
    Stmt q(db_.get(), "SELECT 1 FROM pragma_table_info('verdicts') WHERE name = 'signature'");
    if (q.Step() != SQLITE_ROW)
      TORN_RETURN_IF_ERROR(Exec("ALTER TABLE verdicts ADD COLUMN signature TEXT NOT NULL DEFAULT ''"));
  }
  // Before shards (torn merge): no plan; such a run cannot be merged, it still resumes.
  bool plan = false;
  {
    Stmt q(db_.get(), "SELECT name FROM pragma_table_info('runs')");
    while (q.Step() == SQLITE_ROW) plan = plan || q.Text(0) == "plan";
  }
  if (!plan) TORN_RETURN_IF_ERROR(Exec("ALTER TABLE runs ADD COLUMN plan TEXT"));
  return Status::Ok();
}

Result<RunInfo> Store::BeginRun(const TraceInfo& trace, const std::string& key,
                                const std::string& options_json) {
  std::lock_guard lock(*mu_);
  RunInfo info;
  {
    Stmt q(db_.get(), "SELECT id, finished FROM runs WHERE key = ?");
    q.Bind(1, key);
    if (q.Step() == SQLITE_ROW) {
      info.id = q.Int(0);
      info.resumed = true;
      info.finished = !q.IsNull(1);
      return info;
    }
  }
  TORN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Stmt t(db_.get(), "INSERT INTO traces(path, log_sha256, entries, sectorsize) VALUES(?,?,?,?) "
              "ON CONFLICT(log_sha256) DO UPDATE SET path = excluded.path RETURNING id");
  t.Bind(1, trace.path).Bind(2, trace.log_sha256).Bind(3, int64_t(trace.entries)).Bind(4, int64_t(trace.sectorsize));
  if (t.Step() != SQLITE_ROW) {
    (void)Exec("ROLLBACK");
    return IoError(db_.path() + ": insert trace: " + sqlite3_errmsg(db_.get()));
  }
  int64_t trace_id = t.Int(0);
  t.Step();  // RETURNING: run the statement to its end before COMMIT
  Stmt r(db_.get(), "INSERT INTO runs(trace_id, key, options) VALUES(?,?,?) RETURNING id");
  r.Bind(1, trace_id).Bind(2, key).Bind(3, options_json);
  if (r.Step() != SQLITE_ROW) {
    (void)Exec("ROLLBACK");
    return IoError(db_.path() + ": insert run: " + sqlite3_errmsg(db_.get()));
  }
  info.id = r.Int(0);
  r.Step();
  TORN_RETURN_IF_ERROR(Exec("COMMIT"));
  return info;
}

Result<std::vector<StoredState>> Store::LoadStates(int64_t run_id, bool outputs) {
  std::lock_guard lock(*mu_);
  std::vector<StoredState> out;
  Stmt q(db_.get(), "SELECT state_id, model, segment, crash_point, base_end, dropped, torn, digest, reused_from, "
              "covers, class_key, fixed FROM states WHERE run_id = ? ORDER BY state_id");
  q.Bind(1, run_id);
  while (q.Step() == SQLITE_ROW) {
    StoredState s;
    s.state_id = uint64_t(q.Int(0));
    s.model = q.Text(1);
    s.segment = uint64_t(q.Int(2));
    s.crash_point = uint64_t(q.Int(3));
    s.base_end = uint64_t(q.Int(4));
    auto d = nlohmann::json::parse(q.Text(5), nullptr, false);
    if (d.is_array())
      for (const auto& x : d) s.dropped.push_back(x.get<uint64_t>());
    s.torn_json = q.Text(6);
    s.digest = q.Text(7);
    if (!q.IsNull(8)) s.reused_from = uint64_t(q.Int(8));
    s.covers = q.Text(9);
    s.class_key = q.Text(10);
    auto f = nlohmann::json::parse(q.Text(11), nullptr, false);
    if (f.is_array())
      for (const auto& x : f) s.fixed.push_back(x.get<uint64_t>());
    out.push_back(std::move(s));
  }
  Stmt v(db_.get(), outputs ? "SELECT state_id, oracle, ok, detail, output, signature FROM verdicts WHERE run_id = ? "
                        "ORDER BY state_id, oracle"
                      : "SELECT state_id, oracle, ok, detail, '', signature FROM verdicts WHERE run_id = ? "
                        "ORDER BY state_id, oracle");
  v.Bind(1, run_id);
  size_t k = 0;
  while (v.Step() == SQLITE_ROW) {
    uint64_t id = uint64_t(v.Int(0));
    while (k < out.size() && out[k].state_id < id) ++k;
    if (k == out.size() || out[k].state_id != id) continue;
    out[k].verdicts.push_back({v.Text(1), v.Int(2) != 0, v.Text(3), v.Text(4), v.Text(5)});
  }
  return out;
}

Status Store::Insert(int64_t run_id, const StoredState& s) {
  auto fail = [&](const std::string& what) {
    return IoError(db_.path() + ": " + what + " of state " + std::to_string(s.state_id) + ": " + sqlite3_errmsg(db_.get()));
  };
  {
    Stmt st(db_.get(), "INSERT INTO states(run_id, state_id, model, segment, crash_point, base_end, dropped, "
                 "torn, digest, reused_from, covers, class_key, fixed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    nlohmann::json dropped = s.dropped;
    st.Bind(1, run_id).Bind(2, int64_t(s.state_id)).Bind(3, s.model).Bind(4, int64_t(s.segment));
    st.Bind(5, int64_t(s.crash_point)).Bind(6, int64_t(s.base_end)).Bind(7, dropped.dump());
    st.Bind(8, s.torn_json).Bind(9, s.digest);
    if (s.reused_from) st.Bind(10, int64_t(*s.reused_from));
    else st.BindNull(10);
    st.Bind(11, s.covers).Bind(12, s.class_key).Bind(13, nlohmann::json(s.fixed).dump());
    if (st.Step() != SQLITE_DONE) return fail("insert");
  }
  for (const auto& v : s.verdicts) {
    Stmt st(db_.get(), "INSERT INTO verdicts(run_id, state_id, oracle, ok, detail, output, signature) "
                 "VALUES(?,?,?,?,?,?,?)");
    st.Bind(1, run_id).Bind(2, int64_t(s.state_id)).Bind(3, v.oracle).Bind(4, v.ok ? 1 : 0);
    st.Bind(5, v.detail).Bind(6, v.output).Bind(7, v.signature);
    if (st.Step() != SQLITE_DONE) return fail("insert verdict " + v.oracle);
  }
  return Status::Ok();
}

Status Store::SaveState(int64_t run_id, const StoredState& s) { return SaveStates(run_id, {s}); }

Status Store::SaveStates(int64_t run_id, const std::vector<StoredState>& states) {
  std::lock_guard lock(*mu_);
  TORN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  for (const auto& s : states) {
    Status st = Insert(run_id, s);
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
  }
  return Exec("COMMIT");
}

Status Store::FinishRun(int64_t run_id, const std::string& possible, uint64_t generated,
                        const std::string& strategy, const std::string& plan) {
  std::lock_guard lock(*mu_);
  Stmt st(db_.get(), "UPDATE runs SET finished = datetime('now'), possible = ?, generated = ?, strategy = ?, "
               "plan = ? WHERE id = ?");
  st.Bind(1, possible).Bind(2, int64_t(generated)).Bind(3, strategy);
  if (plan.empty()) st.BindNull(4);
  else st.Bind(4, plan);
  st.Bind(5, run_id);
  if (st.Step() != SQLITE_DONE) return IoError(db_.path() + ": finish run: " + sqlite3_errmsg(db_.get()));
  return Status::Ok();
}

}  // namespace torn::store
