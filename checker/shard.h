// Shards (`torn check --shard K/N`, docs/scale.md): a deterministic split of a check into N disjoint
// parts whose union is the whole, one process (and one SQLite file) each, merged by `torn merge`.
//
// The rule: shard K of N judges the groups (models::CrashState::id, the enumeration's position,
// deterministic for a trace, a model and its options) whose id mod N is K-1. Every shard enumerates
// the whole state space (cheap: no image is built) and judges its own groups only.
//
// Why by group: a group is stored whole or not at all (checker/run.h, invariant 1), so a group never
// straddles two shards and a shard resumes by itself. Why interleaved (id mod N) rather than
// contiguous ranges: the cost of a group varies along the enumeration (windows differ in size; the
// bounded strategy's random states come last), and interleaving gives each shard an even sample of
// every window, so shards end together. What it costs: class verdicts are not shared across shards,
// so a class whose members fall in k shards is judged k times. Measured (docs/scale.md): +6 % oracle
// runs for 2 shards and +13 % for 8 on corpus/ext4-nobarrier's 10^5 states, where contiguous ranges
// save about a third of that but leave the slowest shard 5 % longer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace torn::checker {

struct Shard {
  uint32_t index = 1;  // K, 1-based
  uint32_t count = 1;  // N; 1: the whole check, not a shard
  bool whole() const { return count == 1; }
  bool Holds(uint64_t group) const { return group % count == index - 1; }
  // How many of the groups [first, first + n) this shard holds.
  uint64_t Share(uint64_t first, uint64_t n) const {
    if (whole()) return n;
    auto below = [&](uint64_t end) { return end / count + (end % count > index - 1 ? 1 : 0); };
    return below(first + n) - below(first);
  }
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
  bool operator==(const Shard&) const = default;
};

// "K/N" with 1 <= K <= N; names the rule broken.
Result<Shard> ParseShard(std::string_view text);

}  // namespace torn::checker
