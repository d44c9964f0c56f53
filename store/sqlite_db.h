// One SQLite connection, closed with it: how every torn database is opened and plain SQL run on it
// (the check's store, store.h; its triage tables, triage_store.h; the campaign database,
// campaign/campaign_db.h). Statements with bound values go through Stmt (stmt.h).
// Every connection: FULLMUTEX (the checker's workers share one), a 10 s busy timeout (a second torn on
// the same file waits for the lock instead of failing), and errors that name the file.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace torn::store {

class SqliteDb {
 public:
  enum class Mode { kCreate, kReadWrite, kReadOnly };  // kReadWrite never creates a file

  // Errors: "PATH: cannot open the WHAT: REASON" (what: "database", "campaign database").
  static Result<SqliteDb> Open(const std::string& path, Mode mode, std::string_view what = "database");
  SqliteDb() = default;
  SqliteDb(SqliteDb&& o) noexcept;
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs SQL without bound values (several statements allowed); an error names the file.
  Status Exec(const std::string& sql);
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace torn::store
