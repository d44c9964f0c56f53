#include "models/walker.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace torn::models {
namespace {

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t PermuteBits(uint64_t x, unsigned n, uint64_t seed) {
  const uint64_t mask = n >= 64 ? ~0ULL : (1ULL << n) - 1;
  const unsigned shift = (n + 1) / 2;
  uint64_t s = seed;
  for (int round = 0; round < 4; ++round) {
    x = (x * (SplitMix(s) | 1)) & mask;  // odd multiplier: a bijection modulo 2^n
    x ^= x >> shift;                     // invertible: the top bits are unchanged
    x ^= SplitMix(s) & mask;
  }
  return x;
}

Walker::Walker(const SegmentPlan& plan, uint64_t seed)
    : plan_(plan), seed_(seed), n_(plan.units.size()), bits_(n_, 0), where_(n_, 0), rng_(seed) {}

// Toggling a unit twice within one step leaves it unchanged and off the list (invariant 2).
void Walker::Toggle(uint32_t unit) {
  bits_[unit] ^= 1;
  if (uint32_t pos = where_[unit]) {
    uint32_t last = toggled_.back();
    toggled_[pos - 1] = last;
    where_[last] = pos;
    toggled_.pop_back();
    where_[unit] = 0;
    return;
  }
  toggled_.push_back(unit);
  where_[unit] = static_cast<uint32_t>(toggled_.size());
}

void Walker::SetAll(const std::vector<uint8_t>& target) {
  for (uint32_t u = 0; u < n_; ++u)
    if (bits_[u] != target[u]) Toggle(u);
}

bool Walker::Next() {
  for (uint32_t u : toggled_) where_[u] = 0;
  toggled_.clear();
  if (produced_ >= plan_.info.generated) phase_ = Phase::kDone;
  bool more = false;
  switch (phase_) {
    case Phase::kStart:
      if (plan_.kind == WindowKind::kPrefixes) {
        phase_ = Phase::kPrefix;
        more = StepPrefix();
      } else if (plan_.exhaustive) {
        phase_ = Phase::kGray;
        gray_i_ = plan_.skip_base ? uint64_t{1} << plan_.shared : 0;
        for (uint64_t g = gray_i_ ^ (gray_i_ >> 1); g; g &= g - 1) Toggle(static_cast<uint32_t>(std::countr_zero(g)));
        more = true;
      } else {
        more = NextBounded();
        while (more && Skipped()) more = NextBounded();
      }
      break;
    case Phase::kGray:
      ++gray_i_;
      Toggle(static_cast<uint32_t>(std::countr_zero(gray_i_)));
      more = true;
      break;
    case Phase::kPrefix:
      more = StepPrefix();
      break;
    case Phase::kKeep:
    case Phase::kDrop:
    case Phase::kRandom:
      more = NextBounded();
      while (more && Skipped()) more = NextBounded();
      break;
    case Phase::kDone:
      return false;
  }
  if (!more) {
    phase_ = Phase::kDone;
    assert(produced_ == plan_.info.generated);
    return false;
  }
  ++produced_;
  AssertWalker();
  return true;
}

bool Walker::StepPrefix() {
  size_t count = plan_.prefixes.size();
  if (plan_.exhaustive) {
    prefix_index_ = static_cast<size_t>(produced_);
  } else {
    uint64_t r = plan_.random;  // evenly spaced, the last one included
    prefix_index_ = r <= 1 ? count - 1 : static_cast<size_t>(produced_ * (count - 1) / (r - 1));
  }
  uint32_t keep = plan_.prefixes[prefix_index_].keep;
  for (uint32_t u = std::min(keep, keep_); u < std::max(keep, keep_); ++u) Toggle(u);
  keep_ = keep;
  return true;
}

bool Walker::StartCombinations(bool drop, int j) {
  if (static_cast<size_t>(j) > n_) return false;
  phase_ = drop ? Phase::kDrop : Phase::kKeep;
  j_ = j;
  combo_.resize(static_cast<size_t>(j));
  for (int i = 0; i < j; ++i) combo_[static_cast<size_t>(i)] = static_cast<uint32_t>(i);
  scratch_.assign(n_, drop ? 1 : 0);
  for (uint32_t u : combo_) scratch_[u] = drop ? 0 : 1;
  SetAll(scratch_);
  return true;
}

bool Walker::NextCombination() {
  int j = static_cast<int>(combo_.size());
  int i = j - 1;
  while (i >= 0 && combo_[static_cast<size_t>(i)] == n_ - static_cast<size_t>(j - i)) --i;
  if (i < 0) return false;
  const uint8_t on = phase_ == Phase::kDrop ? 0 : 1;
  auto set = [&](uint32_t u, uint8_t v) {
    if (bits_[u] != v) Toggle(u);
  };
  for (int t = i; t < j; ++t) set(combo_[static_cast<size_t>(t)], on ^ 1);
  ++combo_[static_cast<size_t>(i)];
  for (int t = i + 1; t < j; ++t) combo_[static_cast<size_t>(t)] = combo_[static_cast<size_t>(t - 1)] + 1;
  for (int t = i; t < j; ++t) set(combo_[static_cast<size_t>(t)], on);
  return true;
}

// Phases of invariant 7. A drop-j state was already produced as a keep state when n - j <= k.
bool Walker::NextBounded() {
  const int k = plan_.k;
  if (phase_ == Phase::kStart) {
    if (k >= 0 && StartCombinations(false, 0)) return true;  // Next() steps past it when skipped
    phase_ = Phase::kRandom;
    return NextRandom();
  }
  if (phase_ == Phase::kKeep) {
    if (NextCombination()) return true;
    if (j_ < k && StartCombinations(false, j_ + 1)) return true;
    if (StartCombinations(true, 0) && n_ > static_cast<size_t>(k)) return true;
  }
  if (phase_ == Phase::kDrop) {
    while (true) {
      if (n_ > static_cast<size_t>(k + j_) && NextCombination()) return true;
      if (j_ >= k || !StartCombinations(true, j_ + 1)) break;
      if (n_ > static_cast<size_t>(k + j_)) return true;
    }
    phase_ = Phase::kRandom;
  }
  return NextRandom();
}

bool Walker::NextRandom() {
  phase_ = Phase::kRandom;
  if (random_done_ >= plan_.random) return false;
  const int k = plan_.k;
  scratch_.assign(n_, 0);
  while (true) {
    size_t ones = 0, past_shared = 0;
    if (n_ <= 64) {
      uint64_t x = PermuteBits(random_i_++, static_cast<unsigned>(n_), seed_);
      for (size_t u = 0; u < n_; ++u) scratch_[u] = (x >> u) & 1;
      ones = static_cast<size_t>(std::popcount(x));
      past_shared = plan_.shared >= 64 ? 0 : static_cast<size_t>(std::popcount(x >> plan_.shared));
    } else {
      for (size_t u = 0; u < n_; u += 64) {
        uint64_t x = rng_();
        for (size_t b = 0; b < 64 && u + b < n_; ++b) {
          ones += scratch_[u + b] = (x >> b) & 1;
          past_shared += u + b >= plan_.shared && scratch_[u + b];
        }
      }
    }
    bool near = static_cast<int64_t>(ones) <= k || static_cast<int64_t>(n_ - ones) <= k;
    if (!near && !(plan_.skip_base && past_shared == 0)) break;
  }
  SetAll(scratch_);
  ++random_done_;
  return true;
}

bool Walker::Skipped() const {
  if (!plan_.skip_base || plan_.kind != WindowKind::kSubsets) return false;
  return std::none_of(bits_.begin() + std::min<size_t>(plan_.shared, n_), bits_.end(), [](uint8_t b) { return b != 0; });
}

void Walker::AssertWalker() const { assert(InvariantsHold()); }

bool Walker::InvariantsHold() const {
  if (bits_.size() != n_) return false;  // 1
  std::vector<uint8_t> seen(n_, 0);
  for (uint32_t u : toggled_)
    if (u >= n_ || seen[u]++) return false;  // 2
  if (produced_ > plan_.info.generated) return false;  // 3
  if (phase_ == Phase::kGray && produced_ > 1 && toggled_.size() != 1) return false;  // 4
  if (phase_ == Phase::kPrefix) {  // 5
    uint32_t keep = plan_.prefixes[prefix_index_].keep;
    for (uint32_t u = 0; u < n_; ++u)
      if (bits_[u] != (u < keep)) return false;
  }
  if (Skipped()) return false;  // 6
  return true;
}

}  // namespace torn::models
