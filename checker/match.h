// `torn check --match REGEX`: hunting one error. A developer who saw an error line (a kernel message,
// an e2fsck problem) wants the crash states that produce it, not every failing state.
//
// Rule: every state is judged as without --match (coverage, classes, the store are unchanged); a failed
// verdict is reported as a violation only when REGEX (ECMAScript, as grep -E mostly reads it) matches
// somewhere in that verdict's one-line detail or in the oracle's full output (e2fsck's output, the
// guest kernel's log, the ordering findings). Failed verdicts it does not match are *filtered*: judged,
// stored with --db, counted in the report and the JSON (`match`), not listed and not a cause of exit
// status 1.
//
// Classes: the members of a class share its verdicts, output included (a member's stored output only
// names the state judged for the class), so the regex is applied to the class's output and a class's
// members are kept or filtered together. That is exact, not an approximation: members present the same
// bytes to the oracle (docs/checker.md, "Classes"), so the tool's output for any member is the class's,
// but for what depends on the state's name or the clock (the loop device's name, time stamps), which a
// developer's regex should not pin. The ordering oracle is judged per group: its own output is used.
#pragma once

#include <cstdint>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "checker/run.h"
#include "oracles/verdict.h"

namespace torn::checker {

class MatchFilter {
 public:
  // A pattern std::regex cannot compile is bad input naming it.
  static Result<MatchFilter> Create(const std::string& pattern);

  bool Matches(std::string_view detail, std::string_view output) const;
  // Records a failed verdict of `state` that the pattern does not match (thread-safe); ok verdicts
  // and matched ones are not recorded.
  void Note(uint64_t state, std::string_view oracle, bool ok, std::string_view detail, std::string_view output);
  bool Filtered(uint64_t state, std::string_view oracle) const;
  const std::string& pattern() const { return pattern_; }

  MatchFilter(MatchFilter&& o) noexcept : pattern_(std::move(o.pattern_)), re_(std::move(o.re_)), unmatched_(std::move(o.unmatched_)) {}

 private:
  MatchFilter(std::string pattern, std::regex re) : pattern_(std::move(pattern)), re_(std::move(re)) {}
  std::string pattern_;
  std::regex re_;
  mutable std::mutex mu_;
  std::set<std::pair<uint64_t, std::string>> unmatched_;  // (state id, oracle name)
};

// Drops the filtered violations from `result` (its list and its crash-point groups), numbers the rest
// again in (state, oracle) order, and fills result.match.
void ApplyMatch(const MatchFilter& filter, CheckResult& result);

}  // namespace torn::checker
