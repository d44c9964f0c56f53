// Names of the models and crash-point selections, and the CrashState helpers of model.h.
#include "models/model.h"

#include <algorithm>

namespace torn::models {
namespace {

struct Named {
  ModelKind kind;
  std::string_view name;
};
constexpr Named kModels[] = {{ModelKind::kPrefix, "prefix"},
                             {ModelKind::kEpoch, "epoch"},
                             {ModelKind::kFuaBarrier, "fua-barrier"},
                             {ModelKind::kTornSector, "torn-sector"}};

struct NamedPoints {
  CrashPoints points;
  std::string_view name;
};
constexpr NamedPoints kPoints[] = {{CrashPoints::kAll, "all"},
                                   {CrashPoints::kFlush, "flush"},
                                   {CrashPoints::kFua, "fua"},
                                   {CrashPoints::kMark, "mark"}};

}  // namespace

Result<ModelKind> ParseModel(std::string_view name) {
  std::string known;
  for (const Named& m : kModels) {
    if (m.name == name) return m.kind;
    known += (known.empty() ? "" : ", ") + std::string(m.name);
  }
  return BadInput("unknown model '" + std::string(name) + "' (models: " + known + ")");
}

std::string_view ModelName(ModelKind kind) {
  for (const Named& m : kModels)
    if (m.kind == kind) return m.name;
  return "?";
}

Result<CrashPoints> ParseCrashPoints(std::string_view name) {
  std::string known;
  for (const NamedPoints& p : kPoints) {
    if (p.name == name) return p.points;
    known += (known.empty() ? "" : ", ") + std::string(p.name);
  }
  return BadInput("unknown crash points '" + std::string(name) + "' (choose from: " + known + ")");
}

bool CrashState::durable(size_t entry) const {
  if (entry < base_end) return true;
  if (entry > crash_point) return false;
  if (std::binary_search(dropped.begin(), dropped.end(), entry)) return false;
  for (const TornWrite& t : torn)
    if (t.entry == entry) return false;
  return true;
}

BigCount CrashState::covers() const {
  BigCount n = BigCount(1) << fixed;
  return covers_previous ? n - 1 : n;
}

bool IsPrefixThrough(const CrashState& state, size_t entry) {
  if (entry < state.first_crash_point || entry > state.crash_point) return false;
  if (!state.dropped.empty() && state.dropped.front() <= entry) return false;
  for (const TornWrite& t : state.torn)
    if (t.entry <= entry) return false;
  return true;
}

}  // namespace torn::models
