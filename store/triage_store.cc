#include "store/triage_store.h"

#include <sqlite3.h>

namespace torn::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS signatures(
  run_id INTEGER NOT NULL, id INTEGER NOT NULL, oracle TEXT NOT NULL, signature TEXT NOT NULL,
  detail TEXT NOT NULL, states INTEGER NOT NULL, covered TEXT NOT NULL, classes INTEGER NOT NULL,
  representative INTEGER NOT NULL,
  PRIMARY KEY(run_id, id));
CREATE TABLE IF NOT EXISTS minimized(
  run_id INTEGER NOT NULL, oracle TEXT NOT NULL, signature TEXT NOT NULL, state_id INTEGER NOT NULL,
  result TEXT NOT NULL, seconds REAL NOT NULL, created TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY(run_id, oracle, signature, state_id));
)sql";

// A prepared statement, finalized by the destructor.
class Query {
 public:
  Query(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Query() { sqlite3_finalize(s_); }
  Query& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Query& Bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Query& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return s_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  double Real(int c) { return sqlite3_column_double(s_, c); }
  std::string Text(int c) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

TriageStore::TriageStore(TriageStore&& o) noexcept : db_(std::move(o.db_)), mu_(std::move(o.mu_)) {}
TriageStore::~TriageStore() = default;

Status TriageStore::Exec(const std::string& sql) { return db_.Exec(sql); }

Result<TriageStore> TriageStore::Open(const std::string& path) {
  TriageStore s;
  // Never creates a database: the triage belongs to a run torn check stored there.
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWrite);
  if (!db.ok()) return BadInput(db.status().message());
  s.db_ = std::move(db).value();
  TORN_RETURN_IF_ERROR(s.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  Status st = s.Exec(kSchema);
  if (!st.ok()) return BadInput(st.message() + " (is it a torn database?)");
  return s;
}

Status TriageStore::SaveSignatures(int64_t run_id, const std::vector<StoredSignature>& rows) {
  std::lock_guard lock(*mu_);
  TORN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    std::string m = sqlite3_errmsg(db_.get());
    (void)Exec("ROLLBACK");
    return IoError(db_.path() + ": " + what + ": " + m);
  };
  {
    Query del(db_.get(), "DELETE FROM signatures WHERE run_id = ?");
    del.Bind(1, run_id);
    if (del.Step() != SQLITE_DONE) return fail("replace the signatures");
  }
  for (const auto& r : rows) {
    Query q(db_.get(), "INSERT INTO signatures(run_id, id, oracle, signature, detail, states, covered, classes, "
                 "representative) VALUES(?,?,?,?,?,?,?,?,?)");
    q.Bind(1, run_id).Bind(2, int64_t(r.id)).Bind(3, r.oracle).Bind(4, r.signature).Bind(5, r.detail);
    q.Bind(6, int64_t(r.states)).Bind(7, r.covered).Bind(8, int64_t(r.classes)).Bind(9, int64_t(r.representative));
    if (q.Step() != SQLITE_DONE) return fail("insert signature " + std::to_string(r.id));
  }
  return Exec("COMMIT");
}

Result<std::vector<StoredSignature>> TriageStore::LoadSignatures(int64_t run_id) {
  std::lock_guard lock(*mu_);
  std::vector<StoredSignature> out;
  Query q(db_.get(), "SELECT id, oracle, signature, detail, states, covered, classes, representative FROM signatures "
               "WHERE run_id = ? ORDER BY id");
  q.Bind(1, run_id);
  while (q.Step() == SQLITE_ROW)
    out.push_back({uint64_t(q.Int(0)), q.Text(1), q.Text(2), q.Text(3), uint64_t(q.Int(4)), q.Text(5),
                   uint64_t(q.Int(6)), uint64_t(q.Int(7))});
  return out;
}

Status TriageStore::SaveMinimized(int64_t run_id, const StoredMinimized& r) {
  std::lock_guard lock(*mu_);
  Query q(db_.get(), "INSERT OR REPLACE INTO minimized(run_id, oracle, signature, state_id, result, seconds) "
               "VALUES(?,?,?,?,?,?)");
  q.Bind(1, run_id).Bind(2, r.oracle).Bind(3, r.signature).Bind(4, int64_t(r.state_id)).Bind(5, r.result_json);
  q.Bind(6, r.seconds);
  if (q.Step() != SQLITE_DONE)
    return IoError(db_.path() + ": store the minimization of state " + std::to_string(r.state_id) + ": " + sqlite3_errmsg(db_.get()));
  return Status::Ok();
}

Result<std::optional<StoredMinimized>> TriageStore::LoadMinimized(int64_t run_id, const std::string& oracle,
                                                                  const std::string& signature, uint64_t state_id) {
  std::lock_guard lock(*mu_);
  Query q(db_.get(), "SELECT result, seconds FROM minimized WHERE run_id = ? AND oracle = ? AND signature = ? AND "
               "state_id = ?");
  q.Bind(1, run_id).Bind(2, oracle).Bind(3, signature).Bind(4, int64_t(state_id));
  if (q.Step() != SQLITE_ROW) return std::optional<StoredMinimized>();
  return std::optional<StoredMinimized>(StoredMinimized{oracle, signature, state_id, q.Text(0), q.Real(1)});
}

Result<std::vector<StoredMinimized>> TriageStore::LoadAllMinimized(int64_t run_id) {
  std::lock_guard lock(*mu_);
  std::vector<StoredMinimized> out;
  Query q(db_.get(), "SELECT oracle, signature, state_id, result, seconds FROM minimized WHERE run_id = ? "
               "ORDER BY state_id, oracle");
  q.Bind(1, run_id);
  while (q.Step() == SQLITE_ROW) out.push_back({q.Text(0), q.Text(1), uint64_t(q.Int(2)), q.Text(3), q.Real(4)});
  return out;
}

Result<std::optional<int64_t>> TriageStore::FindRun(const std::string& log_sha256, uint64_t state_id) {
  std::lock_guard lock(*mu_);
  Query q(db_.get(), "SELECT runs.id FROM runs JOIN traces ON runs.trace_id = traces.id "
               "JOIN states ON states.run_id = runs.id AND states.state_id = ? "
               "WHERE traces.log_sha256 = ? ORDER BY runs.finished IS NULL, runs.id DESC LIMIT 1");
  q.Bind(1, int64_t(state_id)).Bind(2, log_sha256);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return std::optional<int64_t>(q.Int(0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return IoError(db_.path() + ": find the run of state " + std::to_string(state_id) + ": " + sqlite3_errmsg(db_.get()));
}

}  // namespace torn::store
