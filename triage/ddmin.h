// Delta debugging: Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing Input",
// IEEE TSE 28(2), 2002), over a set of n elements (here: the writes a failing crash state dropped, and
// the sectors its torn writes lost; triage/minimize.h says how a subset becomes a state).
//
// The test says, for a subset C of the elements, whether C alone still fails the same way (kFail) or
// not (kPass: passes; kOther: fails otherwise, another signature). ddmin keeps a failing C and a
// granularity g, cuts C into g parts and tries, in order, each part, then (g > 2) each complement;
// the first that fails becomes C (g back to 2 after a part, g-1 after a complement); when none fails it
// doubles g, up to |C|. It ends when g == |C| and nothing failed.
//
// Invariants (checked by ddmin_test.cc on synthetic failure sets):
//   1. the result fails (it is the input, or a subset that tested kFail);
//   2. without the budget cutting it short, the result is 1-minimal: removing any one element gives a
//      subset that tested kPass or kOther (ddmin's last round tried every complement), and the empty
//      set does not fail (tested first; when it fails, the result is empty);
//   3. a subset is tested at most once (a cache of outcomes by subset), and the result depends only on
//      the outcomes, not on how many candidates a batch judged: candidates are offered in ddmin's
//      order and the first kFail is taken.
// Batches: each round offers its candidates together, so a tester that must boot a VM judges them in
// one boot. The tester may stop at the first kFail and return only the outcomes up to it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/status.h"

namespace torn::triage {

enum class Outcome { kFail, kPass, kOther };

// Outcomes of the candidates in order; it may stop after the first kFail (fewer outcomes than
// candidates), never before it.
using TestBatch = std::function<Result<std::vector<Outcome>>(const std::vector<std::vector<size_t>>& candidates)>;

struct DdminOptions {
  uint64_t max_tests = 5000;  // subsets judged (the cache's hits not counted)
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct DdminResult {
  std::vector<size_t> minimal;      // sorted element indices
  bool reproduced = true;           // the whole set failed; false: nothing was minimized
  bool one_minimal = false;         // invariant 2 holds (false when the budget cut it short)
  bool budget_cut = false;
  uint64_t tests = 0;               // distinct subsets judged
  // For each element of `minimal`, in order: the outcome without it (kPass or kOther when 1-minimal).
  std::vector<Outcome> without;
};

Result<DdminResult> Ddmin(size_t n, const TestBatch& test, const DdminOptions& options = {});

}  // namespace torn::triage
