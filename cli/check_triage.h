// torn check's triage (triage/triage.h) from the command line's options: the check's setup again, the
// violations grouped by signature, the first few minimized and explained within a time budget, the
// results stored with the run when --db. Progress lines go to stderr.
#pragma once

#include <cstddef>

#include "base/status.h"
#include "checker/run.h"
#include "triage/triage.h"

namespace torn::cli {

struct CheckTriageOptions {
  size_t minimize = 3;        // --minimize N: signatures minimized and explained (0: none)
  double seconds = 60;        // --minimize-time S: for all of them
};

Result<triage::Triage> TriageCheck(const checker::CheckOptions& o, const checker::CheckResult& r,
                                   const CheckTriageOptions& t);

}  // namespace torn::cli
