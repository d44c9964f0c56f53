// The walker's invariants (walker.h) on plans built by hand, including bounded ones far larger than the
// synthetic logs reach; and the dependency graph's edges on a small log.
#include "models/walker.h"

#include <set>

#include <gtest/gtest.h>

#include "models/dependency_graph.h"
#include "trace/log_builder.h"

namespace torn::models {
namespace {

// `shared`: with skip_base, the states keeping no unit past the first `shared` are skipped (reorder:K).
SegmentPlan SubsetsPlan(size_t n, uint64_t generated, bool skip_base, uint32_t shared = 0) {
  SegmentPlan sp;
  for (size_t u = 0; u < n; ++u) sp.units.push_back({u, 0, 1});
  sp.skip_base = skip_base;
  sp.shared = shared;
  sp.info.possible = (BigCount(1) << n) - (skip_base ? BigCount(1) << shared : BigCount(0));
  sp.info.generated = generated;
  sp.exhaustive = sp.info.possible == generated;
  if (!sp.exhaustive) {
    sp.k = -1;
    while (NeighbourhoodSize(n, sp.k + 1, skip_base, shared) <= generated / 2) ++sp.k;
    sp.random = generated - NeighbourhoodSize(n, sp.k, skip_base, shared);
  }
  return sp;
}

bool KeepsPastShared(const std::vector<uint8_t>& bits, size_t shared) {
  for (size_t u = shared; u < bits.size(); ++u)
    if (bits[u]) return true;
  return false;
}

std::vector<std::vector<uint8_t>> Walk(const SegmentPlan& sp, uint64_t seed) {
  Walker w(sp, seed);
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> prev(sp.units.size(), 0);
  while (w.Next()) {
    EXPECT_TRUE(w.InvariantsHold()) << "state " << out.size();
    std::vector<uint8_t> diff = prev;
    for (uint32_t u : w.toggled()) diff[u] ^= 1;
    EXPECT_EQ(diff, w.bits()) << "toggled() is not the difference, state " << out.size();
    prev = w.bits();
    out.push_back(w.bits());
  }
  return out;
}

TEST(WalkerSynthetic, ExhaustiveGrayCodeTogglesOneUnitAndCoversAll) {
  for (bool skip : {false, true}) {
    auto sp = SubsetsPlan(10, skip ? 1023 : 1024, skip);
    auto states = Walk(sp, 1);
    std::set<std::vector<uint8_t>> distinct(states.begin(), states.end());
    EXPECT_EQ(distinct.size(), skip ? 1023u : 1024u);
    EXPECT_EQ(distinct.count(std::vector<uint8_t>(10, 0)), skip ? 0u : 1u);
  }
}

TEST(WalkerSynthetic, BoundedIsDistinctDeterministicAndHasTheNeighbourhood) {
  for (size_t n : {12, 40, 64, 65, 300}) {
    for (bool skip : {false, true}) {
      auto sp = SubsetsPlan(n, 1500, skip);
      auto a = Walk(sp, 7), b = Walk(sp, 7), c = Walk(sp, 8);
      ASSERT_EQ(a.size(), 1500u) << n;
      EXPECT_EQ(a, b);
      EXPECT_NE(a, c);
      std::set<std::vector<uint8_t>> distinct(a.begin(), a.end());
      EXPECT_EQ(distinct.size(), 1500u) << "n " << n;
      // Every state dropping or keeping at most k units is there.
      ASSERT_GE(sp.k, 1) << n;
      std::vector<uint8_t> one(n, 0), all_but_one(n, 1);
      one[n - 1] = 1, all_but_one[n / 2] = 0;
      EXPECT_TRUE(distinct.count(one));
      EXPECT_TRUE(distinct.count(all_but_one));
      EXPECT_EQ(distinct.count(std::vector<uint8_t>(n, 0)), skip ? 0u : 1u);
    }
  }
}

// reorder:K: the states keeping no unit past the first `shared` are the previous segment's. Exhaustive
// walks start at gray(2^shared) and cover the rest once; bounded walks produce exactly `generated`
// states (so NeighbourhoodSize counted the skipped ones right), none of them skipped ones.
TEST(WalkerSynthetic, SharedUnitsAreSkipped) {
  for (uint32_t shared : {1u, 3u, 7u}) {
    auto sp = SubsetsPlan(10, 1024 - (1u << shared), true, shared);
    auto states = Walk(sp, 1);
    std::set<std::vector<uint8_t>> distinct(states.begin(), states.end());
    EXPECT_EQ(distinct.size(), 1024u - (1u << shared));
    for (const auto& s : distinct) EXPECT_TRUE(KeepsPastShared(s, shared));
    for (size_t n : {9, 12, 40, 70}) {
      for (uint64_t generated : {20u, 300u}) {
        if (BigCount(generated) >= (BigCount(1) << n) - (BigCount(1) << shared)) continue;
        auto bounded = SubsetsPlan(n, generated, true, shared);
        auto got = Walk(bounded, 3);
        ASSERT_EQ(got.size(), generated) << "n " << n << " shared " << shared;
        std::set<std::vector<uint8_t>> d(got.begin(), got.end());
        EXPECT_EQ(d.size(), generated);
        for (const auto& s : d) EXPECT_TRUE(KeepsPastShared(s, shared)) << "n " << n;
      }
    }
  }
  // By hand: 4 units, the first 2 shared: the subsets with unit 2 or 3.
  EXPECT_EQ(NeighbourhoodSize(4, 0, true, 2), 1u);   // {} and all four, less {} (shared)
  EXPECT_EQ(NeighbourhoodSize(4, 1, true, 2), 7u);   // 10 states with <= 1 or >= 3 kept, less {},{0},{1}
  EXPECT_EQ(NeighbourhoodSize(4, 2, true, 2), 12u);  // all 16, less the 4 subsets of {0,1}
}

TEST(WalkerSynthetic, PermuteBitsIsABijection) {
  for (unsigned n : {1u, 2u, 5u, 13u}) {
    std::set<uint64_t> seen;
    for (uint64_t x = 0; x < (1ULL << n); ++x) {
      uint64_t y = PermuteBits(x, n, 99);
      EXPECT_LT(y, 1ULL << n);
      seen.insert(y);
    }
    EXPECT_EQ(seen.size(), 1ULL << n);
  }
}

TEST(DependencyGraphSynthetic, EdgesOfASmallLog) {
  // a(0..1) b(5) FLUSH c(0..3, overwrites a... but in another window) d(5) d2(5) FUA-write e(9)
  trace::LogBuilder b(512);
  b.Write(0, 2, 1).Write(5, 1, 2).Flush().Write(0, 4, 3).Write(5, 1, 4).Write(5, 1, 5);
  b.Write(9, 1, 6, trace::kFlagFua);
  auto log = trace::Log::FromBytes(b.Build());
  ASSERT_TRUE(log.ok());
  auto g = DependencyGraph::Build(*log, RuleFor(ModelKind::kFuaBarrier));
  auto windows = g.Windows();
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].barrier_entry, kNoEntry);
  EXPECT_EQ(windows[0].members, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(windows[0].end, 2u);
  EXPECT_EQ(windows[1].barrier_entry, 2u);
  EXPECT_EQ(windows[1].members, (std::vector<size_t>{3, 4, 5}));
  EXPECT_EQ(windows[1].end, 6u);
  EXPECT_EQ(windows[2].barrier_entry, 6u);
  EXPECT_TRUE(windows[2].members.empty());
  // Overwrites only within a window: 4 by 5 (same sector); not 0 by 3 (different windows).
  EXPECT_TRUE(g.Overwrites(windows[0]).empty());
  EXPECT_EQ(g.Overwrites(windows[1]), (std::vector<std::pair<size_t, size_t>>{{4, 5}}));
  // The FUA write depends on the flush and on every member of the window it closes.
  const Graph& gr = g.graph();
  std::set<size_t> deps;
  for (auto e : boost::make_iterator_range(boost::out_edges(windows[2].barrier, gr)))
    deps.insert(gr[boost::target(e, gr)].entry);
  EXPECT_EQ(deps, (std::set<size_t>{2, 3, 4, 5}));
  // reorder:1: each window merged with the one before; overwrites across the flush count there.
  auto merged = g.Windows(1);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[1].base_entry, kNoEntry);
  EXPECT_EQ(merged[1].members, (std::vector<size_t>{0, 1, 3, 4, 5}));
  EXPECT_EQ(g.Overwrites(merged[1]), (std::vector<std::pair<size_t, size_t>>{{0, 3}, {1, 4}, {4, 5}}));
  EXPECT_EQ(merged[2].base_entry, 2u);
  EXPECT_EQ(merged[2].members, (std::vector<size_t>{3, 4, 5, 6}));  // the FUA write 6 is a member
  // Under prefix the members form a chain.
  auto p = DependencyGraph::Build(*log, RuleFor(ModelKind::kPrefix));
  EXPECT_TRUE(p.Windows()[1].chain);
}

}  // namespace
}  // namespace torn::models
