// The data oracle (DESIGN.md, "Checker oracles"): what a crash may not take away from the files.
//
// The recorder saved a manifest (path, size, md5 of every file; the directories) at marks recorded
// right after a sync. Take the trace's manifest marks in log order, M1 < M2 < ... < Mn. The rules:
//   1. stable files: in every crash state whose crash point is at or after Mi (and before Mi+1), each
//      file whose path, size and md5 are the same in Mi and Mi+1 must be intact (same size and md5;
//      a file with alternatives, torn fuzz's rename target, is stable when Mi+1 promises one of them,
//      and holds when it has any of them),
//      and each directory listed in both must exist. After Mn there is no next manifest: no file is
//      known to be stable, nothing is required.
//   2. exact states: a crash state whose durable entries are exactly the content entries up to Mi
//      (the state at the mark) must match Mi entirely: every file, every directory.
// A partial manifest (trace::Manifest::partial, torn gate's promise of one fsync or fdatasync) covers
// only the files it lists: in rule 1 a file's Mi and Mi+1 are then the last manifest at or before the
// crash point and the first after it that cover the file (a file fsynced at a partial mark Mp stays
// promised in every state after Mp until the next manifest covering it shows it changed, and earlier
// promises run through Mp); directories go by the whole manifests. The state at a partial mark must
// hold what it lists and the files and directories stable there.
// States before M1 have no rule. The oracle reads the image after journal replay (run it on the fsck
// oracle's scratch copy) through libext2fs, so it needs no mount and no kernel.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "oracles/durable.h"
#include "oracles/verdict.h"
#include "trace/expectations.h"
#include "trace/log.h"

namespace torn::oracles {

struct DataRule {
  std::string mark;           // Mi
  size_t mark_entry = 0;
  std::optional<std::string> next_mark;  // Mi+1
  std::vector<trace::FileExpectation> stable_files;
  std::vector<std::string> stable_dirs;
  trace::Manifest manifest;  // Mi's, for exact states
};

class DataPlan {
 public:
  // Errors when the expectations name a mark the trace does not have.
  static Result<DataPlan> Build(const trace::Log& log, const trace::Expectations& expectations);

  struct Applies {
    const DataRule* rule = nullptr;  // none before the first manifest mark
    bool exact = false;              // the state is exactly the state at rule->mark
    // Small integer that, with the image digest, decides the verdict: states with the same image and
    // the same key get the same data verdict.
    int key() const { return rule ? static_cast<int>(2 * index + (exact ? 1 : 0)) + 1 : 0; }
    size_t index = 0;
  };
  Applies For(const DurableView& state) const;

  const std::vector<DataRule>& rules() const { return rules_; }

 private:
  std::vector<DataRule> rules_;
  std::vector<size_t> content_before_;  // content entries in [0, i) for each i (prefix counts)
};

// Checks `image` (after journal replay) against what applies. An image libext2fs cannot open fails
// the verdict when a rule applies.
Verdict CheckData(const std::string& image, const DataPlan::Applies& applies);

}  // namespace torn::oracles
