// Each model's rule, as data (docs/models.md has the prose and the soundness argument for each):
//
//   model        barrier entries                       window units    window states
//   prefix       flush entries, FUA content writes     whole entries   the prefixes of the window
//   epoch        flush entries                         whole entries   any subset (FUA writes included)
//   fua-barrier  flush entries, FUA content writes     whole entries   any subset
//   torn-sector  flush entries, FUA content writes     logical sectors any subset of the sectors
//
// A barrier is durable once the crash point reaches it, with everything logged before it. The window of
// a barrier is the content entries logged after it and before the next barrier; for `prefix` the
// barriers only group the states into segments (its states are the prefixes of the whole log).
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
