#include "checker/match.h"

#include <map>

namespace torn::checker {

Result<MatchFilter> MatchFilter::Create(const std::string& pattern) {
  if (pattern.empty()) return BadInput("--match: empty pattern");
  try {
    return MatchFilter(pattern, std::regex(pattern, std::regex::ECMAScript | std::regex::optimize));
  } catch (const std::regex_error& e) {
    return BadInput("--match '" + pattern + "': not a regular expression (" + e.what() + ")");
  }
}

bool MatchFilter::Matches(std::string_view detail, std::string_view output) const {
  return std::regex_search(detail.begin(), detail.end(), re_) || std::regex_search(output.begin(), output.end(), re_);
}

void MatchFilter::Note(uint64_t state, std::string_view oracle, bool ok, std::string_view detail,
                       std::string_view output) {
  if (ok || Matches(detail, output)) return;
  std::lock_guard lock(mu_);
  unmatched_.emplace(state, std::string(oracle));
}

bool MatchFilter::Filtered(uint64_t state, std::string_view oracle) const {
  std::lock_guard lock(mu_);
  return unmatched_.count({state, std::string(oracle)}) > 0;
}

void ApplyMatch(const MatchFilter& filter, CheckResult& result) {
  result.match.regex = filter.pattern();
  std::set<uint64_t> failing, kept_states;
  std::vector<Violation> kept;
  std::map<std::pair<uint64_t, oracles::Oracle>, uint64_t> new_id;
  for (Violation& v : result.violations) {
    failing.insert(v.state);
    if (filter.Filtered(v.state, oracles::OracleName(v.oracle))) {
      ++result.match.filtered_violations;
      continue;
    }
    kept_states.insert(v.state);
    v.id = kept.size() + 1;
    new_id[{v.state, v.oracle}] = v.id;
    kept.push_back(std::move(v));
  }
  result.violations = std::move(kept);
  result.match.kept_states = kept_states.size();
  result.match.filtered_states = failing.size() - kept_states.size();
  for (CrashPointGroup& g : result.groups) {
    std::vector<Violation> left;
    for (Violation& v : g.violations) {
      auto it = new_id.find({v.state, v.oracle});
      if (it == new_id.end()) continue;
      v.id = it->second;
      left.push_back(std::move(v));
    }
    g.violations = std::move(left);
  }
}

}  // namespace torn::checker
