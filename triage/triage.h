// The triage of a check: its violations grouped by signature (signature.h), so a thousand failing
// states read as a few distinct failures with counts, and for the first few signatures (most states
// first) one representative minimized (minimize.h) and explained (explain.h), within a time budget.
//
// A signature's representative is its violation whose state lost the fewest writes and sectors (ddmin
// has the least to do), the lowest state id among equals. Minimizations are stored as they finish
// (store/triage_store.h) and reused by a rerun of the same check; the grouping is stored at the end.
//
// JSON (torn check --json "signatures", torn explain --json; docs/triage.md):
//   {"id", "oracle", "signature", "detail", "states", "covered", "classes", "crash_points",
//    "representative": {"state", "crash_point", "dropped", "torn"},
//    "minimal": [entries], "minimization": {...} | null, "explanation": [...]}
// "minimal" lists the entries of the minimal set (a torn write's lost sectors are in
// minimization.minimal_sectors); "minimization" is MinimizedToJson's object, null when the signature
// was not minimized (minimization.note says why when it was tried).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "checker/run.h"
#include "checker/setup.h"
#include "triage/ddmin.h"
#include "triage/explain.h"
#include "triage/minimize.h"
#include "triage/rejudge.h"

namespace torn::triage {

struct SignatureGroup {
  uint64_t id = 0;                 // 1-based, most states first
  oracles::Oracle oracle = oracles::Oracle::kFsck;
  std::string signature;
  uint64_t states = 0;             // judged states that failed this way
  std::string covered = "0";       // the states they stand for (decimal)
  uint64_t classes = 0;            // distinct class keys among them
  uint64_t crash_points = 0;       // distinct crash points among them
  checker::Violation representative;
  // The minimization, when done (or reused from the store): its JSON (MinimizedToJson) and, when done
  // in this process, the pieces.
  std::optional<nlohmann::json> minimization;
  std::string note;                // why not minimized, when it was tried
};

struct TriageOptions {
  size_t minimize = 3;                           // signatures minimized, most states first; 0: none
  std::chrono::milliseconds time_budget{60000};  // for all of them; a minimization cut short says so
  uint64_t max_tests = 2000;                     // per minimization
  RejudgeOptions judge;                          // oracle is set per signature
  std::string db;                                // with run_id: minimizations stored and reused
  int64_t run_id = 0;
  std::string trace_arg;                         // for the reproduce commands
  uint64_t image_bytes = 0;
  std::function<void(std::string_view)> on_progress;  // one line per signature minimized
};

struct Triage {
  std::vector<SignatureGroup> groups;
  uint64_t failing_states = 0;     // distinct states with a violation
  uint64_t minimized = 0;
  bool budget_cut = false;         // the time budget stopped minimizing before `minimize` were done
  double seconds = 0;
};

// The groups, without minimizing anything.
std::vector<SignatureGroup> GroupBySignature(const checker::CheckResult& r);
// The triage without minimizing: the groups and the failing states (torn check --minimize 0, torn
// merge: a function of the violations alone, so shards merged give a single run's).
Triage GroupOnly(const checker::CheckResult& r);

// Groups, minimizes and explains. `setup` is the check's (checker::Prepare with its options).
Result<Triage> RunTriage(const checker::CheckResult& r, const checker::Setup& setup, const TriageOptions& options);

// One minimized state as JSON: {"state", "oracle", "signature", "crash_point", "lost", "minimal",
// "minimal_sectors", "dropped", "torn", "reproduced", "one_minimal", "budget_cut", "put_back",
// "detail", "tests", "cache_hits", "judged", "e2fsck_runs", "boots", "seconds", "reproduce",
// "explanation"}.
nlohmann::json MinimizedToJson(const Failure& f, const Minimized& m, const std::vector<WriteExplanation>& explanation,
                               const std::string& reproduce);
// The failing state of a violation (its base: the first entry it lost).
Failure FailureOf(const checker::Violation& v);
nlohmann::json ToJson(const Triage& t);

}  // namespace torn::triage
