#include "store/sqlite_db.h"

#include <utility>

namespace torn::store {

Result<SqliteDb> SqliteDb::Open(const std::string& path, Mode mode, std::string_view what) {
  SqliteDb d;
  d.path_ = path;
  int flags = SQLITE_OPEN_FULLMUTEX;
  switch (mode) {
    case Mode::kCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  if (sqlite3_open_v2(path.c_str(), &d.db_, flags, nullptr) != SQLITE_OK) {
    std::string m = d.db_ ? sqlite3_errmsg(d.db_) : "out of memory";
    return IoError(path + ": cannot open the " + std::string(what) + ": " + m);
  }
  sqlite3_busy_timeout(d.db_, 10000);
  return d;
}

SqliteDb::SqliteDb(SqliteDb&& o) noexcept : path_(std::move(o.path_)), db_(std::exchange(o.db_, nullptr)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    path_ = std::move(o.path_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return IoError(path_ + ": " + m);
  }
  return Status::Ok();
}

}  // namespace torn::store
