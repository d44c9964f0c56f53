// Names of the models and crash-point selections, and the CrashState helpers of model.h.
#include "models/model.h"

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

namespace torn::models {
namespace {

struct Named {
  ModelKind kind;
  std::string_view name;
};
constexpr Named kModels[] = {{ModelKind::kPrefix, "prefix"},
                             {ModelKind::kEpoch, "epoch"},
                             {ModelKind::kFuaBarrier, "fua-barrier"},
                             {ModelKind::kTornSector, "torn-sector"},
                             {ModelKind::kReorder, "reorder"}};
constexpr std::string_view kReorderPrefix = "reorder:";

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
    if (m.kind == ModelKind::kReorder) continue;
    if (m.name == name) return m.kind;
    known += (known.empty() ? "" : ", ") + std::string(m.name);
  }
  return BadInput("unknown model '" + std::string(name) + "' (models: " + known + ")");
}

Result<ModelChoice> ParseModelChoice(std::string_view name) {
  if (name.starts_with(kReorderPrefix) || name == "reorder") {
    std::string_view k = name.substr(std::min(name.size(), kReorderPrefix.size()));
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), v);
    if (k.empty() || ec != std::errc() || end != k.data() + k.size() || v < 1 || v > kMaxReorder)
      return BadInput(fmt::format("model '{}': reorder:K needs K, the barriers a window may extend across, "
                                  "from 1 to {} (e.g. reorder:1)", name, kMaxReorder));
    return ModelChoice{ModelKind::kReorder, v};
  }
  for (const Named& m : kModels)
    if (m.kind != ModelKind::kReorder && m.name == name) return ModelChoice{m.kind, 0};
  std::string known;
  for (const Named& m : kModels)
    known += (known.empty() ? "" : ", ") + std::string(m.name) + (m.kind == ModelKind::kReorder ? ":K" : "");
  return BadInput("unknown model '" + std::string(name) + "' (models: " + known + ")");
}

std::string ModelLabel(ModelKind kind, uint32_t reorder) {
  if (kind == ModelKind::kReorder) return fmt::format("reorder:{}", reorder);
  return std::string(ModelName(kind));
}

bool BeyondContract(ModelKind kind) { return kind == ModelKind::kEpoch || kind == ModelKind::kReorder; }

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
  return covers_previous ? n - (BigCount(1) << previous_fixed) : n;
}

bool IsPrefixThrough(const CrashState& state, size_t entry) {
  if (entry < state.first_crash_point || entry > state.crash_point) return false;
  if (!state.dropped.empty() && state.dropped.front() <= entry) return false;
  for (const TornWrite& t : state.torn)
    if (t.entry <= entry) return false;
  return true;
}

}  // namespace torn::models
