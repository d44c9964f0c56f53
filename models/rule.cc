#include "models/rule.h"

namespace torn::models {
namespace {

// A flush entry (REQ_PREFLUSH, with or without data).
bool FlushBarrier(const trace::Entry& e) { return e.flush(); }
// A flush entry, or a FUA write that changes content: the log holds a FUA write once it completed, and
// it completed durable.
bool FlushOrFuaBarrier(const trace::Entry& e) { return e.flush() || (e.fua() && e.changes_content()); }

constexpr Rule kRules[] = {
    {ModelKind::kPrefix, FlushOrFuaBarrier, WindowKind::kPrefixes, false},
    {ModelKind::kEpoch, FlushBarrier, WindowKind::kSubsets, false},
    {ModelKind::kFuaBarrier, FlushOrFuaBarrier, WindowKind::kSubsets, false},
    {ModelKind::kTornSector, FlushOrFuaBarrier, WindowKind::kSubsets, true},
    {ModelKind::kReorder, FlushOrFuaBarrier, WindowKind::kSubsets, false},
};

}  // namespace

const Rule& RuleFor(ModelKind kind) {
  for (const Rule& r : kRules)
    if (r.kind == kind) return r;
  return kRules[2];
}

}  // namespace torn::models
