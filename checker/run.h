// `torn check`'s engine: enumerate a trace's crash states (models::StateSpace), build each state's
// image (state_image.h), judge it with the selected oracles, deduplicate verdicts by image digest, and
// store everything (store/store.h) so an interrupted run resumes where it stopped.
//
// Flow, with N worker threads:
//   producer (the caller's thread)  StateSpace::ForEach -> skip states the store already holds ->
//                                   bounded queue
//   worker i                        ordering verdict (no image) -> move the worker's image to the
//                                   state (state_image.h: only what differs is written, the digest
//                                   kept as it moves) -> if another state with the same digest and
//                                   data rule was judged (or is being judged), reuse its image
//                                   verdicts; else journal replay (e2fsck with an undo file), then,
//                                   unless an image equal after replay was judged, e2fsck -fn and
//                                   data; the image is put back (StateImage::Restore) -> one store
//                                   transaction
//   mount batcher (mount_batch.h)   with the mount oracle in the lab VM: copies of distinct images,
//                                   one boot per batch; states waiting for it are parked and stored
//                                   when their image's verdict arrives
// Invariants:
//   1. every state the enumeration generates (within the budget) is judged once per run, or taken from
//      the store when resuming; a state is stored with all its verdicts or not at all;
//   2. image verdicts (fsck, data, mount) are functions of (image digest, data rule), and e2fsck -fn's
//      and data's of (digest after journal replay, data rule); ordering verdicts of the durable set:
//      reuse never crosses those keys (CheckOptions::dedupe off: no reuse at all);
//   3. violations are numbered in (state id, oracle) order after the run, so an interrupted and resumed
//      run reports exactly what an uninterrupted one does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "oracles/fsck.h"
#include "oracles/mount_vm.h"
#include "oracles/verdict.h"
#include "models/model.h"

namespace torn::checker {

struct CheckOptions {
  std::string trace;
  models::SpaceOptions space;             // model, points, budget in states, seed
  std::optional<std::string> from_mark;   // only crash points at or after this mark
  // With no from_mark: start at models::kDefaultFromMark when the trace has it (CheckResult says so).
  bool default_from_mark = true;
  std::optional<std::string> expect;      // manifest file; default: the trace directory's
  std::vector<oracles::Oracle> oracles;            // empty: fsck, data, ordering
  bool oracles_explicit = false;          // the user listed them (an unusable one is then an error)
  int jobs = 1;
  std::optional<std::chrono::milliseconds> time_budget;
  std::string db;                         // SQLite file; empty: results only in memory
  bool host_mount = false;
  // The mount oracle in the lab VM (without host_mount): the kernel, time limits, images per boot.
  oracles::VmMountOptions vm_mount;
  size_t mount_batch = 64;  // images judged per batch (a boot, or more when the guest dies)
  // Reuse verdicts between states whose images are the same (before journal replay: every image
  // verdict; after it: e2fsck -fn's and the data oracle's). Off: every state is judged on its own.
  bool dedupe = true;
  std::string scratch_dir = "/dev/shm";
  oracles::FsckOptions fsck;
};

struct Progress {
  uint64_t generated = 0;     // states the enumeration will produce (the bar's total)
  uint64_t checked = 0;       // states judged (including the ones resumed from the store)
  uint64_t violations = 0;    // states with at least one failed verdict
  uint64_t reused = 0;        // states whose image verdicts were reused from an identical image
  double seconds = 0;
};

struct Violation {
  uint64_t id = 0;            // 1-based, in (state, oracle) order
  uint64_t state = 0;
  oracles::Oracle oracle = oracles::Oracle::kFsck;
  size_t crash_point = 0;
  std::vector<size_t> dropped;
  std::vector<models::TornWrite> torn;
  std::string detail;
};

struct CrashPointGroup {       // for the JUnit report: one test case per crash point
  size_t crash_point = 0;
  uint64_t states = 0;
  std::vector<Violation> violations;
};

struct CheckResult {
  std::string trace;
  std::string model;
  std::string points;
  std::vector<oracles::Oracle> oracles;
  std::string possible;        // exact, decimal (it may exceed 64 bits)
  uint64_t generated = 0;
  uint64_t checked = 0;
  uint64_t distinct_images = 0;   // images judged by the image oracles (not reused)
  uint64_t mount_boots = 0;        // lab VM boots of the mount oracle
  uint64_t reused_after_replay = 0;  // of those, images whose -fn and data verdicts were reused
                                     // because another image was the same after journal replay
  uint64_t resumed = 0;           // states taken from the store
  std::string strategy;
  std::optional<std::string> from_mark;  // the mark crash points start at (given, or the default)
  bool from_mark_default = false;        // it is the default (models::kDefaultFromMark), not given
  bool budget_cut = false;        // the time budget stopped the run before every state was judged
  double seconds = 0;
  std::vector<Violation> violations;
  std::vector<CrashPointGroup> groups;
  std::vector<std::string> notes;  // e.g. "ordering: the trace has no ext4 journal"
  int64_t run_id = 0;              // in the store, when --db
};

// Runs the check. `progress` is called now and then from a helper thread (never concurrently).
Result<CheckResult> RunCheck(const CheckOptions& options,
                             const std::function<void(const Progress&)>& progress = {});

}  // namespace torn::checker
