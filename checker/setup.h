// The first stage of a check: what it knows before it enumerates anything. The trace and its
// description, which oracles can run (a trace without an ext4 journal drops the ordering oracle unless
// it was asked for by name), where crash points start (--from-mark, or the `mkfs` mark by default),
// the data oracle's manifests, the ordering oracle's journal map, and the size of the images.
// `torn check` and `torn states --classes` start here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "models/model.h"
#include "oracles/data.h"
#include "oracles/ordering.h"
#include "oracles/verdict.h"
#include "trace/log.h"

namespace torn::checker {

struct SetupOptions {
  std::string trace;
  models::SpaceOptions space;
  std::optional<std::string> from_mark;   // only crash points at or after this mark
  bool default_from_mark = true;          // without from_mark: start at the `mkfs` mark if any
  std::optional<std::string> expect;      // manifest file; default: the trace directory's
  std::vector<oracles::Oracle> oracles;   // empty: fsck, data, ordering
  bool oracles_explicit = false;          // the user named them: an unusable one is an error
};

struct Setup {
  trace::Log log;
  nlohmann::json description;             // trace.json, or {} for a bare log
  std::vector<oracles::Oracle> oracles;   // those that will run
  models::SpaceOptions space;             // with from_entry set from the mark
  std::optional<std::string> from_mark;   // the mark crash points start at
  bool from_mark_default = false;         // it is models::kDefaultFromMark, not asked for
  std::string expect_path;                // the manifests used (empty: none)
  std::optional<oracles::DataPlan> data;  // with the data oracle
  std::optional<oracles::OrderingOracle> ordering;  // with the ordering oracle
  uint64_t image_bytes = 0;               // checker::ImageBytes
  std::vector<std::string> notes;         // what the reports say about the setup

  bool Has(oracles::Oracle o) const;
  bool WantsImage() const;  // an oracle that reads the state's image (all but ordering)
};

Result<Setup> Prepare(const SetupOptions& options);

}  // namespace torn::checker
