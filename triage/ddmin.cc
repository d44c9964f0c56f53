#include "triage/ddmin.h"

#include <algorithm>
#include <map>

namespace torn::triage {
namespace {

using Subset = std::vector<size_t>;

class Run {
 public:
  Run(const TestBatch& test, const DdminOptions& o) : test_(test), o_(o) {}

  // The index of the first candidate that fails, in order; nullopt when none does or the budget ran
  // out (budget_cut() then says so).
  Result<std::optional<size_t>> FirstFail(const std::vector<Subset>& candidates) {
    for (size_t i = 0; i < candidates.size();) {
      if (auto it = cache_.find(candidates[i]); it != cache_.end()) {
        if (it->second == Outcome::kFail) return std::optional<size_t>(i);
        ++i;
        continue;
      }
      size_t j = i;
      std::vector<Subset> batch;
      while (j < candidates.size() && !cache_.count(candidates[j]) &&
             std::find(batch.begin(), batch.end(), candidates[j]) == batch.end())
        batch.push_back(candidates[j++]);
      if (tests_ + batch.size() > o_.max_tests) batch.resize(o_.max_tests > tests_ ? o_.max_tests - tests_ : 0);
      if (batch.empty() || (o_.deadline && std::chrono::steady_clock::now() >= *o_.deadline)) {
        cut_ = true;
        return std::optional<size_t>();
      }
      TORN_ASSIGN_OR_RETURN(std::vector<Outcome> got, test_(batch));
      if (got.empty() || got.size() > batch.size() || (got.size() < batch.size() && got.back() != Outcome::kFail))
        return Internal("ddmin: the tester judged " + std::to_string(got.size()) + " of " +
                        std::to_string(batch.size()) + " candidates without stopping at a failure");
      for (size_t k = 0; k < got.size(); ++k) {
        cache_[batch[k]] = got[k];
        ++tests_;
        if (got[k] == Outcome::kFail) return std::optional<size_t>(i + k);
      }
      if (got.size() < j - i) {  // the budget trimmed the batch
        cut_ = true;
        return std::optional<size_t>();
      }
      i = j;
    }
    return std::optional<size_t>();
  }

  std::optional<Outcome> Known(const Subset& s) const {
    auto it = cache_.find(s);
    return it == cache_.end() ? std::nullopt : std::optional<Outcome>(it->second);
  }
  uint64_t tests() const { return tests_; }
  bool budget_cut() const { return cut_; }

 private:
  const TestBatch& test_;
  const DdminOptions& o_;
  std::map<Subset, Outcome> cache_;
  uint64_t tests_ = 0;
  bool cut_ = false;
};

// C cut into g contiguous parts of sizes differing by at most one.
std::vector<Subset> Split(const Subset& c, size_t g) {
  std::vector<Subset> parts;
  size_t at = 0;
  for (size_t k = 0; k < g; ++k) {
    size_t len = c.size() / g + (k < c.size() % g ? 1 : 0);
    parts.emplace_back(c.begin() + at, c.begin() + at + len);
    at += len;
  }
  return parts;
}

Subset Minus(const Subset& c, const Subset& part) {
  Subset out;
  std::set_difference(c.begin(), c.end(), part.begin(), part.end(), std::back_inserter(out));
  return out;
}

}  // namespace

Result<DdminResult> Ddmin(size_t n, const TestBatch& test, const DdminOptions& options) {
  Run run(test, options);
  DdminResult r;
  Subset all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  // The empty set first (in the same batch as the whole set): a failure that needs nothing dropped.
  TORN_ASSIGN_OR_RETURN(std::optional<size_t> first, run.FirstFail({Subset{}, all}));
  auto finish = [&](Subset c) {
    r.minimal = std::move(c);
    r.tests = run.tests();
    r.budget_cut = run.budget_cut();
    r.one_minimal = !r.budget_cut && r.reproduced;
    for (size_t x : r.minimal) {
      Subset without = Minus(r.minimal, {x});
      r.without.push_back(run.Known(without).value_or(Outcome::kPass));
    }
    if (!r.one_minimal) r.without.clear();
    return r;
  };
  if (first == 0u) return finish({});
  if (!first) {  // the whole set does not fail (or the budget ran out before it was judged)
    r.reproduced = false;
    r.budget_cut = run.budget_cut();
    r.minimal = all;
    r.tests = run.tests();
    return r;
  }

  Subset c = all;
  size_t g = 2;
  while (c.size() >= 2) {
    std::vector<Subset> parts = Split(c, std::min(g, c.size()));
    TORN_ASSIGN_OR_RETURN(std::optional<size_t> hit, run.FirstFail(parts));
    if (run.budget_cut()) break;
    if (hit) {
      c = parts[*hit];
      g = 2;
      continue;
    }
    if (parts.size() > 2) {
      std::vector<Subset> complements;
      for (const Subset& p : parts) complements.push_back(Minus(c, p));
      TORN_ASSIGN_OR_RETURN(hit, run.FirstFail(complements));
      if (run.budget_cut()) break;
      if (hit) {
        c = complements[*hit];
        g = std::max<size_t>(parts.size() - 1, 2);
        continue;
      }
    }
    if (parts.size() >= c.size()) break;  // every complement of one element tried: 1-minimal
    g = std::min(parts.size() * 2, c.size());
  }
  // |C| == 1: its only complement is the empty set, tested first.
  return finish(std::move(c));
}

}  // namespace torn::triage
