// Minimizing a failing crash state: which of what it lost make it fail.
//
// A crash state loses writes (CrashState::dropped) and, under torn-sector, sectors of torn writes (the
// sectors of a torn entry that did not land). Those are the elements ddmin works on (ddmin.h). A subset
// S of them is the state with the same crash point and base that loses only S: every other write up to
// the crash point is durable, a torn entry lands everything but its sectors in S (nothing at all when
// S holds every sector: the entry is then dropped). S "fails" when that state fails the same oracle
// with the same signature (signature.h); any other verdict — it passes, or it fails otherwise — counts
// as not failing. The result is 1-minimal (ddmin.h, invariant 2): the failing state's smallest cause
// in the sense that putting back any one of its writes (or sectors) makes the failure go away or
// change; not necessarily the smallest such set overall.
//
// Each test is cheap when it can be: Rejudge (rejudge.h) builds the candidate incrementally, keys it in
// process and reuses the verdict of a candidate with the same class key; only new keys cost e2fsck
// runs (or a mount). The ordering oracle needs no image at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "models/model.h"
#include "oracles/verdict.h"
#include "triage/ddmin.h"
#include "triage/rejudge.h"

namespace torn::triage {

struct Failure {
  models::CrashState state;   // crash point, base, dropped entries, torn writes
  oracles::Oracle oracle = oracles::Oracle::kFsck;
  std::string signature;      // as torn check recorded it
};

// One thing a failing state lost: a whole write, or one sector of a torn write (0-based in the entry).
struct Lost {
  size_t entry = 0;
  std::optional<uint32_t> sector;
  auto operator<=>(const Lost&) const = default;
};

struct Minimized {
  models::CrashState state;        // the failing state with only the minimal set lost
  std::vector<Lost> minimal;       // in log order
  size_t lost = 0;                 // elements the failing state lost
  bool reproduced = false;         // the failing state failed again, the same way
  bool one_minimal = false;        // ddmin's invariant 2 holds (false when its budget cut it short)
  bool budget_cut = false;
  // Per element of `minimal`: what the state does with that one put back ("passes", or "fails
  // otherwise: SIGNATURE"); empty unless one_minimal.
  std::vector<std::string> put_back;
  std::string detail;              // the minimal state's verdict detail (one line)
  uint64_t tests = 0;              // candidate states ddmin asked about (distinct subsets)
  uint64_t cache_hits = 0;         // of those, answered by a class key judged before
  uint64_t judged = 0;             // judged by the oracle for real
  uint64_t e2fsck_runs = 0, boots = 0;
  double seconds = 0;
};

// What `failing` lost, in log order (writes, then each lost sector of a torn write).
std::vector<Lost> LostElements(const trace::Log& log, const models::CrashState& failing);
// `failing` losing only `lost` (sorted, a subset of LostElements).
models::CrashState WithOnly(const trace::Log& log, const models::CrashState& failing, const std::vector<Lost>& lost);

// `judge` must judge f.oracle. The failing state is judged again first: a failure that does not come
// back (another verdict now) gives reproduced == false and no minimization.
Result<Minimized> Minimize(Rejudge& judge, const Failure& f, const DdminOptions& options = {});

}  // namespace torn::triage
