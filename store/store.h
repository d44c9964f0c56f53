// The results store: one SQLite database (WAL mode) per --db file, shared by runs.
//
//   traces    (id, path, log_sha256 UNIQUE, entries, sectorsize)
//   runs      (id, trace_id, key UNIQUE, options JSON, started, finished, possible, generated,
//              strategy, plan JSON)          key = what makes two runs the same run (RunKey)
//              plan: what the run set out to do and its notes (checker/result.h PlanJson), written when
//              it finishes, so a result can be rebuilt from the database alone (torn merge)
//   states    (run_id, state_id, model, segment, crash_point, base_end, dropped JSON, torn JSON,
//              digest, reused_from, covers, class_key, fixed)   PRIMARY KEY (run_id, state_id)
//              covers: the states this one stands for (decimal; "1" without classes); class_key: hex
//              (empty when it could not be computed); fixed: JSON list of the entries it stands in for
//              (it stands for every state that differs from it only in those)
//   verdicts  (run_id, state_id, oracle, ok, detail, output, signature)
//                                            PRIMARY KEY (run_id, state_id, oracle)
//              signature: what failed without the state's numbers (triage/signature.h), '' when ok
//
// Invariants:
//   1. a state row and all its verdict rows are written in one transaction (SaveState; SaveStates for
//      the members of one group): after a crash of torn (Ctrl-C, kill -9), a state (a group) is either
//      fully stored or absent;
//   2. a state is stored at most once per run (the primary keys; a second save is refused);
//   3. a run is identified by its key; opening the same key again resumes it: the caller skips the
//      states already stored and reuses their verdicts.
// WAL with synchronous=NORMAL: a committed transaction survives the death of the process (what resume
// needs); only a power cut of the machine running torn may lose the last ones.
// One Store is one connection; its methods are serialized by an internal mutex, so worker threads may
// share it.
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

struct StoredVerdict {
  std::string oracle;
  bool ok = true;
  std::string detail;
  std::string output;
  std::string signature;  // triage/signature.h; empty when ok
};

struct StoredState {
  uint64_t state_id = 0;
  std::string model;
  uint64_t segment = 0;
  uint64_t crash_point = 0;
  uint64_t base_end = 0;
  std::vector<uint64_t> dropped;
  std::string torn_json = "[]";
  std::string digest;                    // hex; empty when the state was not materialized
  std::optional<uint64_t> reused_from;   // verdicts copied from this state (same image or class)
  std::string covers = "1";              // decimal: the states this one stands for
  std::string class_key;                 // hex, empty when it could not be computed
  std::vector<uint64_t> fixed;           // entries it stands in for (classes)
  std::vector<StoredVerdict> verdicts;
};

struct TraceInfo {
  std::string path;
  std::string log_sha256;
  uint64_t entries = 0;
  uint32_t sectorsize = 0;
};

// A run as stored, with its trace (store_merge.cc).
struct StoredRun {
  int64_t id = 0;
  TraceInfo trace;
  std::string key, options, plan;
  bool finished = false;
  std::string possible, strategy;
  uint64_t generated = 0;
  uint64_t states = 0;        // state rows
};

struct RunInfo {
  int64_t id = 0;
  bool resumed = false;        // the key existed already
  bool finished = false;       // and that run had completed
};

class Store {
 public:
  static Result<Store> Open(const std::string& path);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) = delete;
  ~Store();

  // Finds the run with this key, or creates it (with its trace row).
  Result<RunInfo> BeginRun(const TraceInfo& trace, const std::string& key, const std::string& options_json);
  // outputs false: the verdicts' tool output is left empty (what a result needs, a fraction of the bytes).
  Result<std::vector<StoredState>> LoadStates(int64_t run_id, bool outputs = true);
  Status SaveState(int64_t run_id, const StoredState& state);
  // Several states (the members of one group) in one transaction: all stored, or none.
  Status SaveStates(int64_t run_id, const std::vector<StoredState>& states);
  Status FinishRun(int64_t run_id, const std::string& possible, uint64_t generated,
                   const std::string& strategy, const std::string& plan = {});

  // torn merge (store_merge.cc). Every run in the file, with its trace.
  Result<std::vector<StoredRun>> Runs();
  // An order-independent digest of a run's rows (states and verdicts, every column but the run id):
  // two runs, or a run and the union of disjoint runs (digests add up), hold the same rows when their
  // digests and state counts are equal.
  Result<std::string> RunDigest(int64_t run_id);
  // Creates `run` (trace, key, options, plan, finished as given) and copies into it every state and
  // verdict of the `sources` (another store and one of its runs each), in one transaction: the merged
  // run is stored whole or not at all. The key must be new in this store.
  Result<int64_t> ImportRun(const StoredRun& run, const std::vector<std::pair<Store*, int64_t>>& sources);
  const std::string& path() const { return db_.path(); }

 private:
  Store() = default;
  Status Exec(const std::string& sql);
  Status Insert(int64_t run_id, const StoredState& state);  // inside a transaction
  Status Migrate();  // columns added since the first schema
  SqliteDb db_;
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
};

}  // namespace torn::store
