// The check's result (run.h) and the store (store/store.h): resuming from an earlier run of the same
// check, and turning the states judged into the result — coverage in classes, violations numbered in
// (state id, oracle) order (run.h, invariant 4), one group of violations per crash point.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "checker/run.h"
#include "checker/run_context.h"
#include "classes/reducer.h"
#include "models/model.h"
#include "store/store.h"

namespace torn::checker {

// The result's fields known before anything is judged: trace, model, oracles, coverage planned,
// notes of the setup and of the reduction.
CheckResult StartResult(const CheckOptions& o, const Setup& setup, const models::StateSpace& states,
                        const classes::Reducer* reducer);

// Opens the run of this check in `db` (its key: what makes two runs the same run), loads what it
// holds into the context (results, the class verdicts to reuse, counters) and the groups already
// stored into `done`.
Status Resume(Context& c, store::Store& db, CheckResult& result, std::set<uint64_t>& done);

// The rest of the result from what was judged: coverage (classes, judged, covered), violations,
// crash-point groups, notes on states the reduction gave up.
void FinishResult(Context& c, CheckResult& result);

// FinishResult's part that needs only the stored states (sorted here), shared with ResultFromStore:
// coverage, the windows' checked/classes/covered, violations numbered in (state, oracle) order,
// crash-point groups; `lost_states` (decimal) and `lost_notes` become notes, in state order.
void Tally(std::vector<store::StoredState>& results, const std::string& lost_states, std::vector<std::string> lost_notes,
           CheckResult& result);

// stored_result.cc. The run's plan, stored with it when it finishes (store.h, runs.plan): what
// StartResult knew (`started`), what the run learnt that its states do not say (states lost to failed
// class proofs, from the context) and its figures (`finished`: seconds, verified, boots).
nlohmann::json PlanJson(const CheckResult& started, const CheckResult& finished, const Context& c);
// A finished run's result from the database alone (no trace needed): its plan and its states, through
// Tally, so it is the result the run printed (run figures aside: distinct_images counts the states
// the oracles judged, seconds the run's). For torn merge and reports of a --db file.
// The crash state a stored state was (crash point, base, dropped entries, torn writes), for rebuilding it.
models::CrashState StateFromStore(const store::StoredState& s);

Result<CheckResult> ResultFromStore(store::Store& db, const store::StoredRun& run);

}  // namespace torn::checker
