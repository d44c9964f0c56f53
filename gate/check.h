// The gate's checking half: every crash state of the lower device, judged at two levels, by classes.
//
// Enumerate: the default model's states from the mark `gate-setup` on (models::StateSpace, budget
// GateOptions::max_states), reduced by classes::Reducer (classes/reducer.h) with the backing file
// ($MNT/inner.img) as a file whose data is read: per window, the writes proven not to change a lower
// state's outer class are fixed durable, so each generated state is a group standing for 2^fixed
// states. With --jobs worker threads, for each group:
//   1. members (classes/members.h): the group cut into members that each share one outer class key —
//      the exact state of an outer or an inner data rule is a member of its own, and the window's
//      proof is checked again on every member's image (a failing entry splits it);
//   2. the outer class key of each member: classes::Analyze on its lower image (in-process outer journal
//      recovery, block roles of the recovered outer image with the backing file's data read, not
//      masked; the outer and inner data rules of the state);
//   3. the first member of an outer class is judged; every other member reuses its findings:
//      a. outer level: oracles::RunFsck (e2fsck journal replay with an undo file, then -fn) on the lower
//         image; the data oracle with the outer manifests when the workload recorded any;
//      b. the backing file copied out of the recovered outer image with libext2fs
//         (ext4::Ext4Image::CopyOut, no mount); an image libext2fs cannot open, or without the backing
//         file, is an outer violation (the inner level cannot be reached);
//      c. the inner class key: classes::Analyze on the extracted image (in-process inner journal
//         recovery, its block roles with the inner data rule's files read) with the inner data rule;
//      d. the first extracted image of an inner class is judged (oracles::RunFsck, oracles::CheckData
//         over the inner manifests); every other one reuses its findings.
//   The lower image is put back after each judged member (StateImage::Restore).
// Why an outer class decides the inner verdicts too: the key covers the recovered outer metadata and
// the backing file's data (KeyOptions::read_files), which are all CopyOut reads, so equal outer keys
// give byte-identical extracted images; and it covers the inner data rule (the data key). Masking the
// backing file at the outer level would be wrong: its bytes are what the inner level judges.
// An xfs or btrfs outer file system (GateOptions::outer, gate/outer_fs.h) has no outer classes (classes/
// know ext4 only): each lower state's outer key is its image digest with its data rules, and steps 3a-b
// are outer_fs.h's (the kernel's log recovery on a loop device, xfs_repair -n or btrfs check, the
// backing file copied out of the mount); the inner level is unchanged.
// Without classes (GateOptions::classes off) the keys are the images' digests with the data rules,
// and no window is reduced: the gate's dedupe before classes.
// Invariants:
//   1. each class is judged once per run, by the first worker to meet its key; the others wait for it;
//   2. the covers of the judged states add up to the states covered (every state of an exhaustive
//      segment exactly once, less what a failed class proof gave up: a note says how many).
#pragma once

#include <string>

#include "base/status.h"
#include "gate/gate.h"
#include "trace/expectations.h"

namespace torn::gate {

struct CheckInput {
  std::string trace;                 // the recorded trace directory
  trace::Expectations outer, inner;  // manifests split by the key convention (workload.h)
  std::string from_mark = kSetupMark;  // crash states are checked from this mark on
};

// Fills result's states, classes, violations, groups and notes.
Status CheckLowerStates(const GateOptions& options, const CheckInput& input, GateResult& result);

// Splits a trace's expectations: marks starting with kInnerManifestPrefix go to the inner level.
void SplitExpectations(const trace::Expectations& all, trace::Expectations& outer, trace::Expectations& inner);

}  // namespace torn::gate
