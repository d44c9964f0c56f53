// The triage of a run in the results database (the same SQLite file as store.h, its own connection and
// tables): violations grouped by signature, and the minimized, explained representatives.
//
//   signatures  (run_id, id, oracle, signature, detail, states, covered, classes, representative)
//                                            PRIMARY KEY (run_id, id)
//               id: 1-based, most states first; states: judged states whose verdict of that oracle
//               failed with that signature; covered: the states they stand for (decimal); classes:
//               distinct class keys among them; representative: the state minimized for it
//   minimized   (run_id, oracle, signature, state_id, result, seconds, created)
//                                            PRIMARY KEY (run_id, oracle, signature, state_id)
//               result: JSON, the `minimization` object of a signature in torn check --json and torn
//               explain --json (docs/triage.md has the shape): the minimal set, its 1-minimality, its
//               cost, the explanation of each write
//
// Invariants, the store's own (store.h):
//   1. a run's signatures are written in one transaction that replaces the run's earlier rows: a
//      reader sees the old grouping or the new one, never half of either;
//   2. a minimization is one row, written in one transaction when it is done: an interrupted triage
//      keeps the ones it finished, and a rerun of the same check (the same run) reuses them instead of
//      minimizing again.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite_db.h"

struct sqlite3;

namespace torn::store {

struct StoredSignature {
  uint64_t id = 0;
  std::string oracle;
  std::string signature;
  std::string detail;           // the representative's verdict detail
  uint64_t states = 0;
  std::string covered = "0";
  uint64_t classes = 0;
  uint64_t representative = 0;  // state id
};

struct StoredMinimized {
  std::string oracle;
  std::string signature;
  uint64_t state_id = 0;
  std::string result_json;
  double seconds = 0;
};

class TriageStore {
 public:
  static Result<TriageStore> Open(const std::string& path);
  TriageStore(TriageStore&&) noexcept;
  TriageStore& operator=(TriageStore&&) = delete;
  ~TriageStore();

  Status SaveSignatures(int64_t run_id, const std::vector<StoredSignature>& rows);
  Result<std::vector<StoredSignature>> LoadSignatures(int64_t run_id);
  Status SaveMinimized(int64_t run_id, const StoredMinimized& row);
  Result<std::optional<StoredMinimized>> LoadMinimized(int64_t run_id, const std::string& oracle,
                                                       const std::string& signature, uint64_t state_id);
  Result<std::vector<StoredMinimized>> LoadAllMinimized(int64_t run_id);

  // The run of torn check that judged `state_id`: the latest run of the trace with this log digest
  // holding that state (a finished run before an unfinished one); nullopt when none does.
  Result<std::optional<int64_t>> FindRun(const std::string& log_sha256, uint64_t state_id);

 private:
  TriageStore() = default;
  Status Exec(const std::string& sql);
  SqliteDb db_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
};

}  // namespace torn::store
