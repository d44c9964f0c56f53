// A prepared SQLite statement, finalized by its destructor: the store's one way to run SQL with
// bound values (store.cc, store_merge.cc). Internal to store/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace torn::store {

// A prepared statement, finalized by the destructor.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) { sqlite3_bind_null(s_, i); return *this; }
  // Column c of the current row as it is (any type), for copying rows between databases.
  Stmt& BindValue(int i, sqlite3_value* v) { sqlite3_bind_value(s_, i, v); return *this; }
  sqlite3_value* Value(int c) { return sqlite3_column_value(s_, c); }
  int Columns() { return sqlite3_column_count(s_); }
  std::string Name(int c) { return sqlite3_column_name(s_, c); }
  int Step() { return sqlite3_step(s_); }
  // For the next row of a statement run many times: the same SQL, new values.
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  bool IsNull(int c) { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string Text(int c) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

}  // namespace torn::store
