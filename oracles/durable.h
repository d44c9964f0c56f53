// Which entries a crash state keeps, as a predicate the oracles can call often. The rule is the
// contract's (models/model.h): entries before base_end are durable, entries after crash_point are not,
// and in between an entry is durable unless it is dropped or torn. Kept here, header-only, so the
// oracles need no link to the models library and cost O(log dropped) per question.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "models/model.h"

namespace torn::oracles {

class DurableView {
 public:
  explicit DurableView(const models::CrashState& s)
      : base_end_(s.base_end), crash_point_(s.crash_point), not_durable_(s.dropped) {
    for (const auto& t : s.torn) not_durable_.push_back(t.entry);
    std::sort(not_durable_.begin(), not_durable_.end());
  }
  bool operator()(size_t entry) const {
    if (entry < base_end_) return true;
    if (entry > crash_point_) return false;
    return !std::binary_search(not_durable_.begin(), not_durable_.end(), entry);
  }
  size_t base_end() const { return base_end_; }
  size_t crash_point() const { return crash_point_; }
  // Not-durable entries in [base_end, crash_point], sorted.
  const std::vector<size_t>& dropped() const { return not_durable_; }

 private:
  size_t base_end_, crash_point_;
  std::vector<size_t> not_durable_;
};

}  // namespace torn::oracles
