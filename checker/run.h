// `torn check`'s engine, in four stages:
//
//   enumerate   setup.h prepares the trace, its manifests and journal map; models::StateSpace lists the
//               crash states, reduced by classes::Reducer (classes/reducer.h): per window, the writes
//               proven not to change a state's class are fixed durable, so each generated state is a
//               *group* standing for 2^fixed states (CrashState::covers).
//   classify    group.cc: a worker moves its image to the group's state (state_image.h: only what
//               differs is written), analyzes it in process (classes/class_key.h: journal recovery,
//               block roles, the class key) and checks the window's proof again on it; a unit the
//               proof no longer holds for splits the group into members (and the state a data rule
//               checks exactly becomes a member of its own).
//   judge       judge.cc: the first member of a class is judged by the oracles on its image (e2fsck
//               journal replay with an undo file, e2fsck -fn, data, mount in the lab VM); every other
//               member of that class reuses those verdicts. The ordering verdict is computed per group
//               from the trace. Without classes (--no-classes) the key is the image digest, as before.
//   store       store/store.h: a group is stored with all its members and all their verdicts in one
//               transaction, so an interrupted run resumes with nothing lost or judged twice.
//
// Invariants:
//   1. every group the enumeration generates (within the budget) is judged once per run, or taken from
//      the store when resuming; a group is stored with all its members and verdicts or not at all;
//   2. image verdicts (fsck, data, mount) are shared only between states with the same class key
//      (classes/class_key.h: equal keys imply equal verdicts, docs/checker.md "Classes"); the ordering
//      verdict is computed per group and holds for its members (fixed units never matter to it);
//   3. the covers of the stored members add up to the states covered: every state of an exhaustive
//      segment exactly once;
//   4. violations are numbered in (state id, oracle) order after the run, so an interrupted and resumed
//      run reports exactly what an uninterrupted one does.
#pragma once

#include <chrono>
#include <map>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "checker/setup.h"
#include "checker/shard.h"
#include "models/model.h"
#include "oracles/fsck.h"
#include "oracles/mount_vm.h"
#include "oracles/verdict.h"

namespace torn::checker {

struct CheckOptions {
  std::string trace;
  models::SpaceOptions space;             // model, points, budget in states, seed
  std::optional<std::string> from_mark;   // only crash points at or after this mark
  // With no from_mark: start at models::kDefaultFromMark when the trace has it (CheckResult says so).
  bool default_from_mark = true;
  std::optional<std::string> expect;      // manifest file; default: the trace directory's
  std::vector<oracles::Oracle> oracles;   // empty: fsck, data, ordering
  bool oracles_explicit = false;          // the user listed them (an unusable one is then an error)
  int jobs = 1;
  std::optional<std::chrono::milliseconds> time_budget;
  std::string db;                         // SQLite file; empty: results only in memory
  bool host_mount = false;
  // States of a fast_commit file system that need recovery get the kernel's journal replay for the
  // fsck and data oracles (oracles/kernel_replay.h: in the lab VM, or here with host_mount); off
  // (--fast-commit-replay e2fsck): e2fsck's, which fails legal states (docs/fuzz.md).
  bool kernel_replays_fast_commits = true;
  // The mount oracle in the lab VM (without host_mount): the kernel, time limits, images per boot.
  oracles::VmMountOptions vm_mount;
  size_t mount_batch = 64;  // images judged per batch (a boot, or more when the guest dies)
  // Judge one state per class (classes/): off, states share verdicts only when their images are equal
  // (before journal replay, or after it for e2fsck -fn and data) — --no-classes.
  bool classes = true;
  // Reuse verdicts at all. Off: every state is judged on its own (--no-dedupe; implies no classes).
  bool dedupe = true;
  // Self-check (--verify-classes N): N random members of every judged class built for real, journal
  // replayed by real e2fsck under a fixed clock, compared with the class; a mismatch is an error.
  uint64_t verify_classes = 0;
  std::string scratch_dir = "/dev/shm";
  oracles::FsckOptions fsck;
  // --match REGEX (checker/match.h): report only failed verdicts whose detail or output it matches;
  // the others are judged and counted, not reported. Empty: report every one.
  std::string match;
  // --shard K/N: judge only the groups whose id mod N is K-1 (checker/shard.h); the run key holds the
  // shard, so a shard's --db resumes that shard only.
  Shard shard;
};

struct Progress {
  uint64_t generated = 0;     // groups the enumeration will produce (the bar's total)
  uint64_t checked = 0;       // groups judged (including the ones resumed from the store)
  uint64_t violations = 0;    // judged states with at least one failed verdict
  uint64_t reused = 0;        // judged states whose image verdicts came from their class
  double covered = 0;         // states covered so far (approximate, for the bar)
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
  std::string covers = "1";   // the states this one stands for (decimal): its class members in its group
  std::string class_key;      // hex; empty without classes
  std::string signature;      // what failed, without this state's numbers (triage/signature.h)
};

struct CrashPointGroup {       // for the JUnit report: one test case per crash point
  size_t crash_point = 0;
  uint64_t states = 0;
  std::vector<Violation> violations;
};

// Coverage of one window (a segment of the state space: the states between two barriers).
struct WindowCoverage {
  size_t segment = 0;
  size_t first = 0, last = 0;    // the window's entries
  std::string possible, covered; // exact, decimal
  uint64_t fixed = 0;            // writes the reduction fixed
  uint64_t generated = 0, checked = 0, classes = 0;
};

// --match (checker/match.h): what it kept and filtered out.
struct MatchSummary {
  std::string regex;                  // empty: no --match
  uint64_t kept_states = 0;           // failing states with a violation it matched
  uint64_t filtered_states = 0;       // failing states with none: judged, not reported
  uint64_t filtered_violations = 0;   // failed verdicts not reported
};

struct CheckResult {
  std::string trace;
  std::string model;
  // Set when the model's states may be outside the block layer's contract (epoch, reorder:K): what a
  // violation found under it means ("possible under a lower layer that reorders across K flushes").
  std::string beyond_contract;
  MatchSummary match;
  std::string points;
  std::vector<oracles::Oracle> oracles;
  std::string possible;        // exact, decimal (it may exceed 64 bits)
  uint64_t generated = 0;      // groups generated (states, without classes)
  uint64_t checked = 0;        // states judged (a group's members; resumed ones included)
  // Classes (decimal strings, exact): distinct class keys among the judged states; classes judged by
  // the oracles in this run or a stored one (the others' verdicts were reused... none: every class seen
  // is judged once); states covered: what the judged states stand for. covered == possible: every
  // legal state lies in a judged class.
  std::string classes = "0", judged = "0", covered = "0";
  bool reduced = false;            // classes were on
  std::vector<std::string> reductions;  // which reductions applied, one line each
  std::vector<WindowCoverage> windows;  // per window, in log order
  // With classes, per window offered to the reduction (segment index): its writes by the rule that
  // fixed them ("replayed", "journal-tail", ..., "free": classes/unit_proof.h). Not stored: the
  // block-role pattern the workload fuzzer feeds back (fuzz/workload_campaign.h).
  std::map<size_t, std::map<std::string, uint64_t>> window_units;
  uint64_t distinct_images = 0;   // images judged by the image oracles (not reused)
  uint64_t mount_boots = 0;        // lab VM boots of the mount oracle
  uint64_t reused_after_replay = 0;  // of those, images whose -fn and data verdicts were reused
                                     // because another image was the same after journal replay
  uint64_t verified = 0;           // --verify-classes: members built and compared with their class
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
  // "K/N" for a shard (generated, windows' generated: its share of the groups); empty for a whole
  // check or a merged one.
  std::string shard;
};

// The setup a check's options ask for (checker::Prepare), also for what reruns part of a check (triage).
SetupOptions SetupOptionsOf(const CheckOptions& o);

// Runs the check. `progress` is called now and then from a helper thread (never concurrently).
Result<CheckResult> RunCheck(const CheckOptions& options,
                             const std::function<void(const Progress&)>& progress = {});

}  // namespace torn::checker
