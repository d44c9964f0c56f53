// The gate's checking half: every crash state of the lower device, judged at two levels.
//
// For each state the default model generates from the mark `gate-setup` on (models::StateSpace,
// budget GateOptions::max_states, coverage reported), with --jobs worker threads:
//   1. the lower image (checker::StateImage: moved from state to state) and its digest;
//   2. outer level: oracles::RunFsck (e2fsck journal replay with an undo file, then -fn) on that image;
//      the data oracle with the outer manifests when the workload recorded any; afterwards the image
//      is put back (StateImage::Restore);
//   3. the backing file ($MNT/inner.img) copied out of the recovered outer image with libext2fs
//      (ext4::Ext4Image::CopyOut, no mount); an image libext2fs cannot open, or a backing file that
//      is missing, is an outer violation (the inner level cannot be reached);
//   4. inner level: oracles::RunFsck and oracles::CheckData over the inner manifests, on the extracted
//      image.
// Dedupe: the whole verdict of a state is a function of (lower digest, outer data rule, inner data
// rule); the inner verdicts of (inner digest, inner data rule). Either is computed once per run (two
// workers may race to the same key; both compute, one result is kept, the verdicts are equal).
#pragma once

#include <string>

#include "base/status.h"
#include "gate/gate.h"
#include "trace/expectations.h"

namespace torn::gate {

struct CheckInput {
  std::string trace;                 // the recorded trace directory
  trace::Expectations outer, inner;  // manifests split by the key convention (workload.h)
};

// Fills result's states, violations, groups and notes.
Status CheckLowerStates(const GateOptions& options, const CheckInput& input, GateResult& result);

// Splits a trace's expectations: marks starting with kInnerManifestPrefix go to the inner level.
void SplitExpectations(const trace::Expectations& all, trace::Expectations& outer, trace::Expectations& inner);

}  // namespace torn::gate
