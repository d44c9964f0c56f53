// torn merge: the databases of a check's shards (checker/shard.h) into one database holding the whole
// check, as if it had been run on one machine (docs/scale.md).
//
// What is merged: every input holds runs of torn check (store/store.h); their keys must be one check's
// (the same trace, by its log's SHA-256, and the same options: everything in the run key but the
// shard). Either the inputs hold the shards 1/N..N/N of one split, each exactly once, every one
// finished; or they hold one whole run (an unsharded check, or an earlier merge, OUT itself included).
// Anything else is refused with the file and the shard named: a shard of another trace or of other
// options, a shard given twice or from a split into another N (overlap), shards missing, a shard that
// did not finish (its rerun resumes it).
//
// Invariants:
//   1. the merged run's key is the whole check's key (the shard's without "shard"): `torn check` with
//      the same options and `--db OUT` finds it finished and prints it, and ResultFromStore rebuilds
//      the result a single run prints (result.h; run figures aside: time, images judged);
//   2. the merged run is the union of the shards' rows, copied as they are, stored in one transaction
//      (store.h ImportRun): whole or not at all;
//   3. idempotent: when OUT already holds the whole check with exactly those rows (state count and
//      RunDigest), nothing is written; when it holds the check with other rows, the merge is refused;
//   4. a class judged in two shards (class verdicts are not shared across shards) must have got the
//      same verdicts; when it did not, each disagreement becomes a note of the merged result (and a
//      warning): a class proof or an oracle is not deterministic, which a single run would not show.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace torn::checker {

struct MergeOutcome {
  int64_t run_id = 0;                  // the merged run in OUT
  bool unchanged = false;              // OUT held it already (invariant 3)
  uint64_t states = 0;                 // state rows of the merged run
  std::vector<std::string> inputs;     // one line per input run: "a.db: shard 1/2, 30 states, 2.1 s"
  std::vector<std::string> warnings;   // invariant 4
};

Result<MergeOutcome> MergeShards(const std::string& out, const std::vector<std::string>& inputs);

// The one finished run of a database (for `torn merge OUT` with no input: print what OUT holds). A
// file with several runs is refused, listing them.
Result<int64_t> OnlyRun(const std::string& db);

}  // namespace torn::checker
