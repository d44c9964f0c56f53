// The check's result (run.h) and the store (store/store.h): resuming from an earlier run of the same
// check, and turning the states judged into the result — coverage in classes, violations numbered in
// (state id, oracle) order (run.h, invariant 4), one group of violations per crash point.
#pragma once

#include <cstdint>
#include <set>

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

}  // namespace torn::checker
