// The store's side of torn merge (store.h): listing runs, digesting a run's rows, and importing the
// rows of runs in other files into one new run.
//
// Rules:
//   1. ImportRun is one transaction over the output file: a merged run is stored whole or not at all
//      (a merge killed half way leaves the output as it was), whatever the number of sources. The
//      sources are read through their own connections (no ATTACH: it is refused inside a transaction
//      and limited to ten files), row by row, so memory does not grow with the number of states.
//   2. Rows are copied as they are, every column but the run id (whatever columns the schema has,
//      read from the tables themselves): a state keeps its id, digest, class key, covers,
//      reused_from, its verdicts and their output. Merging never judges or rewrites anything.
//   3. RunDigest is a sum (mod 2^64, per 64-bit lane) of a SHA-256 per state over its row and its
//      verdicts' rows. A sum does not depend on order and adds up over disjoint runs: the digest of
//      the union of shards is the sum of theirs, which is how a merge repeated on its own output
//      tells that nothing would change (torn merge's idempotence).
#include <sqlite3.h>

#include <cstring>

#include <fmt/core.h>

#include "base/hash.h"
#include "store/stmt.h"
#include "store/store.h"

namespace torn::store {

Result<std::vector<StoredRun>> Store::Runs() {
  std::lock_guard lock(*mu_);
  std::vector<StoredRun> out;
  Stmt q(db_.get(), "SELECT r.id, r.key, r.options, r.plan, r.finished IS NOT NULL, r.possible, r.generated, "
              "r.strategy, t.path, t.log_sha256, t.entries, t.sectorsize, "
              "(SELECT count(*) FROM states s WHERE s.run_id = r.id) "
              "FROM runs r JOIN traces t ON t.id = r.trace_id ORDER BY r.id");
  if (!q.ok()) return IoError(db_.path() + ": list runs: " + sqlite3_errmsg(db_.get()));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    StoredRun r;
    r.id = q.Int(0);
    r.key = q.Text(1);
    r.options = q.Text(2);
    r.plan = q.Text(3);
    r.finished = q.Int(4) != 0;
    r.possible = q.Text(5);
    r.generated = uint64_t(q.Int(6));
    r.strategy = q.Text(7);
    r.trace = {q.Text(8), q.Text(9), uint64_t(q.Int(10)), uint32_t(q.Int(11))};
    r.states = uint64_t(q.Int(12));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return IoError(db_.path() + ": list runs: " + sqlite3_errmsg(db_.get()));
  return out;
}

namespace {

// The columns of a table in a database, but run_id, in name order: what a row is, whatever order
// its columns were added in (store.cc Migrate) and whatever columns later versions add.
Result<std::vector<std::string>> Columns(sqlite3* db, const std::string& path, const char* table) {
  Stmt q(db, "SELECT name FROM pragma_table_info(?) ORDER BY name");
  q.Bind(1, std::string(table));
  std::vector<std::string> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW)
    if (q.Text(0) != "run_id") out.push_back(q.Text(0));
  if (rc != SQLITE_DONE || out.empty()) return IoError(path + ": columns of " + table + ": " + sqlite3_errmsg(db));
  return out;
}

std::string List(const std::vector<std::string>& columns) {
  std::string s;
  for (const auto& c : columns) s += (s.empty() ? "" : ", ") + c;
  return s;
}

}  // namespace

Result<std::string> Store::RunDigest(int64_t run_id) {
  std::lock_guard lock(*mu_);
  TORN_ASSIGN_OR_RETURN(auto sc, Columns(db_.get(), db_.path(), "states"));
  TORN_ASSIGN_OR_RETURN(auto vc, Columns(db_.get(), db_.path(), "verdicts"));
  uint64_t lanes[4] = {0, 0, 0, 0};
  std::string ssql = "SELECT state_id, " + List(sc) + " FROM states WHERE run_id = ? ORDER BY state_id";
  std::string vsql = "SELECT state_id, " + List(vc) + " FROM verdicts WHERE run_id = ? ORDER BY state_id, oracle";
  Stmt s(db_.get(), ssql.c_str());
  Stmt v(db_.get(), vsql.c_str());
  if (!s.ok() || !v.ok()) return IoError(db_.path() + ": digest run: " + sqlite3_errmsg(db_.get()));
  s.Bind(1, run_id);
  v.Bind(1, run_id);
  int vrc = v.Step();
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    // Every column as text, NULL told apart from ''.
    std::string row;
    for (int c = 1; c < s.Columns(); ++c) row += (s.IsNull(c) ? std::string("\x01") : s.Text(c)) + '\x1f';
    int64_t id = s.Int(0);
    while (vrc == SQLITE_ROW && v.Int(0) <= id) {
      if (v.Int(0) == id)
        for (int c = 1; c < v.Columns(); ++c) row += (v.IsNull(c) ? std::string("\x01") : v.Text(c)) + '\x1e';
      vrc = v.Step();
    }
    std::string hex = HashHex(HashAlgo::kSha256, row);
    for (int lane = 0; lane < 4; ++lane) lanes[lane] += std::stoull(hex.substr(size_t(lane) * 16, 16), nullptr, 16);
  }
  if (rc != SQLITE_DONE) return IoError(db_.path() + ": digest run: " + sqlite3_errmsg(db_.get()));
  return fmt::format("{:016x}{:016x}{:016x}{:016x}", lanes[0], lanes[1], lanes[2], lanes[3]);
}

Result<int64_t> Store::ImportRun(const StoredRun& run, const std::vector<std::pair<Store*, int64_t>>& sources) {
  std::lock_guard lock(*mu_);
  auto fail = [&](const std::string& what) { return IoError(db_.path() + ": " + what + ": " + sqlite3_errmsg(db_.get())); };
  TORN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<int64_t> {
    Stmt t(db_.get(), "INSERT INTO traces(path, log_sha256, entries, sectorsize) VALUES(?,?,?,?) "
                "ON CONFLICT(log_sha256) DO UPDATE SET path = excluded.path RETURNING id");
    t.Bind(1, run.trace.path).Bind(2, run.trace.log_sha256).Bind(3, int64_t(run.trace.entries));
    t.Bind(4, int64_t(run.trace.sectorsize));
    if (t.Step() != SQLITE_ROW) return fail("insert trace");
    int64_t trace_id = t.Int(0);
    t.Step();
    Stmt r(db_.get(), "INSERT INTO runs(trace_id, key, options, finished, possible, generated, strategy, plan) "
                "VALUES(?,?,?,CASE WHEN ? THEN datetime('now') END,?,?,?,?) RETURNING id");
    r.Bind(1, trace_id).Bind(2, run.key).Bind(3, run.options).Bind(4, run.finished ? 1 : 0).Bind(5, run.possible);
    r.Bind(6, int64_t(run.generated)).Bind(7, run.strategy).Bind(8, run.plan);
    if (r.Step() != SQLITE_ROW) return fail("insert run");
    int64_t id = r.Int(0);
    r.Step();
    // States, then verdicts (they refer to their state), every column of this store's tables.
    for (const char* table : {"states", "verdicts"}) {
      TORN_ASSIGN_OR_RETURN(auto columns, Columns(db_.get(), db_.path(), table));
      std::string marks;
      for (size_t i = 0; i <= columns.size(); ++i) marks += i ? ",?" : "?";
      std::string insert = std::string("INSERT INTO ") + table + "(run_id, " + List(columns) + ") VALUES(" + marks + ")";
      Stmt ins(db_.get(), insert.c_str());
      if (!ins.ok()) return fail(std::string("copy ") + table);
      for (const auto& [src, src_run] : sources) {
        std::lock_guard src_lock(*src->mu_);
        std::string select = "SELECT " + List(columns) + " FROM " + table + " WHERE run_id = ?";
        Stmt q(src->db_.get(), select.c_str());
        if (!q.ok()) return IoError(src->db_.path() + ": read " + table + ": " + sqlite3_errmsg(src->db_.get()));
        q.Bind(1, src_run);
        int rc;
        while ((rc = q.Step()) == SQLITE_ROW) {
          ins.Reset();
          ins.Bind(1, id);
          for (int c = 0; c < q.Columns(); ++c) ins.BindValue(c + 2, q.Value(c));
          if (ins.Step() != SQLITE_DONE)
            return fail(fmt::format("copy a row of {} of run {} of {}", table, src_run, src->db_.path()));
        }
        if (rc != SQLITE_DONE) return IoError(src->db_.path() + ": read " + table + ": " + sqlite3_errmsg(src->db_.get()));
      }
    }
    return id;
  };
  Result<int64_t> id = body();
  if (!id.ok()) {
    (void)Exec("ROLLBACK");
    return id.status();
  }
  TORN_RETURN_IF_ERROR(Exec("COMMIT"));
  return id;
}

}  // namespace torn::store
