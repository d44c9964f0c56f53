// ddmin on synthetic failure predicates: the invariants of ddmin.h, checked exhaustively on the result.
#include "triage/ddmin.h"

#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace torn::triage {
namespace {

using Subset = std::vector<size_t>;
using Predicate = std::function<Outcome(const Subset&)>;

bool Contains(const Subset& s, const Subset& need) {
  return std::includes(s.begin(), s.end(), need.begin(), need.end());
}

// A tester over a predicate that records every subset it was asked about; `stop_at_fail` as a local
// tester does, or not, as the VM's batches do.
struct Tester {
  Predicate pred;
  bool stop_at_fail = true;
  std::vector<Subset> asked;
  TestBatch Batch() {
    return [this](const std::vector<Subset>& cands) -> Result<std::vector<Outcome>> {
      std::vector<Outcome> out;
      for (const Subset& c : cands) {
        asked.push_back(c);
        out.push_back(pred(c));
        if (stop_at_fail && out.back() == Outcome::kFail) break;
      }
      return out;
    };
  }
};

// Invariants 1 and 2 of ddmin.h, checked against the predicate itself.
void ExpectOneMinimal(const DdminResult& r, const Predicate& pred) {
  ASSERT_TRUE(r.reproduced);
  EXPECT_TRUE(r.one_minimal);
  EXPECT_TRUE(std::is_sorted(r.minimal.begin(), r.minimal.end()));
  EXPECT_EQ(pred(r.minimal), Outcome::kFail);
  ASSERT_EQ(r.without.size(), r.minimal.size());
  for (size_t k = 0; k < r.minimal.size(); ++k) {
    Subset without = r.minimal;
    without.erase(without.begin() + k);
    EXPECT_NE(pred(without), Outcome::kFail) << "element " << r.minimal[k] << " is not needed";
    EXPECT_EQ(r.without[k], pred(without));
  }
}

TEST(DdminSynthetic, FindsTheTwoElementsThatTogetherFail) {
  Predicate pred = [](const Subset& s) { return Contains(s, {3, 17}) ? Outcome::kFail : Outcome::kPass; };
  Tester t{pred};
  auto r = Ddmin(40, t.Batch());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->minimal, (Subset{3, 17}));
  ExpectOneMinimal(*r, pred);
  // Invariant 3: no subset asked twice.
  std::set<Subset> distinct(t.asked.begin(), t.asked.end());
  EXPECT_EQ(distinct.size(), t.asked.size());
  EXPECT_EQ(r->tests, t.asked.size());
}

TEST(DdminSynthetic, EmptySetThatFailsGivesAnEmptyResult) {
  Tester t{[](const Subset&) { return Outcome::kFail; }};
  auto r = Ddmin(10, t.Batch());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->minimal.empty());
  EXPECT_TRUE(r->one_minimal);
  EXPECT_EQ(r->tests, 1u);
}

TEST(DdminSynthetic, WholeSetThatPassesIsNotReproduced) {
  Tester t{[](const Subset&) { return Outcome::kPass; }};
  auto r = Ddmin(10, t.Batch());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->reproduced);
  EXPECT_FALSE(r->one_minimal);
  EXPECT_EQ(r->minimal.size(), 10u);
}

TEST(DdminSynthetic, AnotherSignatureCountsAsNotFailing) {
  // 5 alone fails otherwise (kOther); 5 with 9 fails the same way.
  Predicate pred = [](const Subset& s) {
    if (Contains(s, {5, 9})) return Outcome::kFail;
    return Contains(s, {5}) ? Outcome::kOther : Outcome::kPass;
  };
  Tester t{pred};
  auto r = Ddmin(12, t.Batch());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->minimal, (Subset{5, 9}));
  ExpectOneMinimal(*r, pred);
  EXPECT_EQ(r->without, (std::vector<Outcome>{Outcome::kPass, Outcome::kOther}));
}

TEST(DdminSynthetic, RandomPredicatesGiveOneMinimalResultsWhateverTheBatching) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    size_t n = 1 + rng() % 40;
    // Monotone or not: a few causes (subsets that fail), and random "other" sets.
    std::vector<Subset> causes;
    for (int k = 0, m = 1 + int(rng() % 3); k < m; ++k) {
      Subset c;
      for (size_t i = 0; i < n; ++i)
        if (rng() % n < 2) c.push_back(i);
      causes.push_back(c);
    }
    bool monotone = rng() % 2;
    uint64_t salt = rng();
    Predicate pred = [&, n](const Subset& s) {
      for (const Subset& c : causes) {
        if (!Contains(s, c)) continue;
        if (monotone) return Outcome::kFail;
        // Not monotone: some supersets of a cause pass (the hash of the set decides).
        uint64_t h = salt;
        for (size_t x : s) h = h * 1000003 + x;
        return (h >> 7) % 4 ? Outcome::kFail : Outcome::kOther;
      }
      (void)n;
      return Outcome::kPass;
    };
    Subset all(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    Tester a{pred, true}, b{pred, false};
    auto ra = Ddmin(n, a.Batch());
    auto rb = Ddmin(n, b.Batch());
    ASSERT_TRUE(ra.ok() && rb.ok());
    if (pred(all) != Outcome::kFail && pred({}) != Outcome::kFail) {
      EXPECT_FALSE(ra->reproduced);
      continue;
    }
    ExpectOneMinimal(*ra, pred);
    EXPECT_EQ(ra->minimal, rb->minimal) << "round " << round;  // invariant 3: batching changes nothing
  }
}

TEST(DdminSynthetic, BudgetCutsShortAndSaysSo) {
  Predicate pred = [](const Subset& s) { return Contains(s, {1, 8, 30, 55}) ? Outcome::kFail : Outcome::kPass; };
  Tester t{pred};
  auto r = Ddmin(64, t.Batch(), {.max_tests = 6});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->budget_cut);
  EXPECT_FALSE(r->one_minimal);
  EXPECT_LE(r->tests, 6u);
  EXPECT_EQ(pred(r->minimal), Outcome::kFail);  // invariant 1 holds even when cut short
}

TEST(DdminSynthetic, ATesterThatStopsEarlyWithoutAFailureIsAnError) {
  TestBatch bad = [](const std::vector<Subset>& c) -> Result<std::vector<Outcome>> {
    if (c.size() > 1) return std::vector<Outcome>{Outcome::kPass};
    return std::vector<Outcome>{Outcome::kFail};
  };
  auto r = Ddmin(8, bad);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace torn::triage
