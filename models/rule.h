// Each model's rule, as data (docs/models.md has the prose and the soundness argument for each):
//
//   model        barrier entries                       window units    window states
//   prefix       flush entries, FUA content writes     whole entries   the prefixes of the window
//   epoch        flush entries                         whole entries   any subset (FUA writes included)
//   fua-barrier  flush entries, FUA content writes     whole entries   any subset
//   torn-sector  flush entries, FUA content writes     logical sectors any subset of the sectors
//   reorder:K    flush entries, FUA content writes     whole entries   any subset of the writes logged
//                                                                      after the barrier K barriers back
//
// A barrier is durable once the crash point reaches it, with everything logged before it. The window of
// a barrier is the content entries logged after it and before the next barrier; for `prefix` the
// barriers only group the states into segments (its states are the prefixes of the whole log).
// reorder:K is fua-barrier with the K latest barriers before the crash not honoured: the window of a
// crash between barriers j and j+1 is everything logged after barrier j-K, the FUA writes between
// included (SpaceOptions::reorder is K; DependencyGraph::Windows merges the windows). Beyond the block
// layer's contract, by design: it models a lower layer that reorders writes around flushes.
#pragma once

#include "models/model.h"
#include "trace/log.h"

namespace torn::models {

enum class WindowKind { kSubsets, kPrefixes };

struct Rule {
  ModelKind kind;
  bool (*is_barrier)(const trace::Entry& e);
  WindowKind window;
  bool sector_units;  // a unit is one logical sector of a write rather than the whole write
};

const Rule& RuleFor(ModelKind kind);

}  // namespace torn::models
