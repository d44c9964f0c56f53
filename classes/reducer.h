// The reduction of a check: models::FixUnits for `torn check` and `torn gate`. For each window, in log
// order, it builds two states on a scratch image of its own — the window's base (every unit dropped)
// and the state that keeps every unit — analyzes the second (class_key.h), and proves unit by unit
// (unit_proof.h) which units it can fix durable. The window's facts stay here for the workers, which
// check the proof again on the rep of every group they judge (a free unit may change what the proof
// relied on; the group is then split into members, classes/members.h).
//
// Units it never fixes: those of a window whose recovery torn does not emulate or whose recovered image
// the walk cannot finish (every state there is judged on its own image), those the ordering oracle
// depends on, and those whose proof fails. The summary says how many units were fixed by which rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/temp_file.h"
#include "classes/unit_proof.h"
#include "models/model.h"
#include "oracles/data.h"
#include "oracles/ordering.h"
#include "replayer/materializer.h"
#include "trace/log.h"

namespace torn::classes {

struct ReducerOptions {
  uint64_t image_bytes = 0;          // the images' size (checker::ImageBytes)
  std::string scratch_dir = "/dev/shm";
  const oracles::DataPlan* data = nullptr;          // the data oracle's files are read, not masked
  const oracles::OrderingOracle* ordering = nullptr;
  std::vector<std::string> extra_read_files;        // e.g. torn gate's backing file
};

// What the reduction did, summed over the windows it was offered.
struct ReductionSummary {
  uint64_t windows = 0, reduced_windows = 0;  // offered; with at least one unit fixed
  std::map<UnitKind, uint64_t> units;          // units by how they were fixed (kFree: not fixed)
  std::map<size_t, std::map<UnitKind, uint64_t>> window_units;  // the same per window (segment index)
  std::vector<std::string> not_reduced;        // one line per window that could not be reduced at all
  std::vector<std::string> free;               // one line per unit not fixed: its entry and why
};

// "R of W windows reduced; F writes fixed (n rule, ...), L left free": the reports' line (torn check,
// torn gate) for a summary with at least one window.
std::string DescribeReduction(const ReductionSummary& s);

// The files the data oracle reads at a crash point (the manifest in force there), plus `extra`.
std::vector<std::string> ReadFiles(const oracles::DataPlan* data, size_t crash_point,
                                   const std::vector<std::string>& extra);

class Reducer {
 public:
  static Result<std::unique_ptr<Reducer>> Create(const trace::Log& log, const ReducerOptions& options);

  // The models::FixUnits callback (it refers to this object, which must outlive the StateSpace build).
  models::FixUnits Callback();
  // The facts of a window the callback was offered (nullptr otherwise).
  const WindowFacts* facts(size_t segment) const;
  const ReductionSummary& summary() const { return summary_; }

 private:
  Reducer(const trace::Log& log, const ReducerOptions& options) : log_(log), options_(options) {}
  Result<std::vector<uint8_t>> Fix(const models::Segment& segment, std::span<const models::Unit> units);

  const trace::Log& log_;
  ReducerOptions options_;
  TempFile file_;
  std::optional<replay::Materializer> image_;
  std::map<size_t, WindowFacts> facts_;
  ReductionSummary summary_;
};

}  // namespace torn::classes
