// `torn gate`: the loop driver's crash-consistency gate (docs/gate.md). One command that a kernel CI
// runs on every loop.c change, over the stack of the seed discussion:
//
//     inner ext4  (the guest's file system, the workload's files)
//       on a loop device (buffered page cache, or direct I/O)
//       whose backing file lives on the outer ext4 (the host's file system)
//       on the lower device, logged through dm-log-writes.
//
// A crash is a crash of the lower device. Steps:
//   1. record (gate/record.cc): boot the kernel under test in the lab VM and run the gate workload
//      (gate/workload.h) through recorder::RecordInVm; the workload marks `gate-setup` when the stack is
//      built and records INNER manifests (`manifest inner-NAME $INNER`, see workload.h for the key
//      convention) after the inner file system's own syncs;
//   2. check (gate/check.h): every crash state of the lower device from the mark `gate-setup` on,
//      under the default model (fua-barrier) within a budget, coverage reported; judged by classes at
//      both levels: one lower state per outer class (e2fsck journal replay + e2fsck -fn, the backing
//      file extracted from the recovered outer image with libext2fs), one extracted image per inner
//      class (e2fsck + the data oracle over the inner manifests).
//   3. report (gate/report.h): torn check's JSON with a `level` per violation, JUnit with one test case
//      per crash-point group (a segment of the lower device: the states between two barriers).
// Exit (cli/cmd_gate.cc): 0 every state passes, 1 violations, 2 error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gate/outer_fs.h"
#include "oracles/fsck.h"
#include "oracles/verdict.h"

namespace torn::gate {

enum class LoopMode { kBuffered, kDirect };
enum class Inject { kNone, kOuterNoBarrier, kInnerNoBarrier };
enum class Level { kOuter, kInner };

Result<LoopMode> ParseLoopMode(std::string_view s);  // "buffered", "direct"
Result<Inject> ParseInject(std::string_view s);      // "none", "outer-nobarrier", "inner-nobarrier"
std::string_view LoopModeName(LoopMode m);
std::string_view InjectName(Inject i);
std::string_view LevelName(Level l);                 // "outer", "inner"

// Where the gate workload puts things (exported to it; see workload.h).
inline constexpr const char* kBackingFile = "inner.img";  // relative to the outer root ($MNT)
inline constexpr const char* kInnerMount = "/tmp/inner";
inline constexpr const char* kSetupMark = "gate-setup";
inline constexpr const char* kInnerManifestPrefix = "inner-";

struct GateOptions {
  std::string kernel_image;   // empty: Debian's
  std::string modules_dir;    // empty: found beside the kernel image
  LoopMode loop_mode = LoopMode::kBuffered;
  Inject inject = Inject::kNone;
  // The outer file system (gate/outer_fs.h): classes and libext2fs for ext4, the kernel's recovery and
  // xfs_repair -n / btrfs check for the others (each lower state judged by itself).
  OuterFs outer = OuterFs::kExt4;
  std::string workload_path;  // empty: the built-in workload
  std::string workload;       // its text (filled from workload_path or the built-in one)
  uint64_t device_bytes = 96ull << 20;
  // Budget of generated lower states: with classes each is a group standing for many states
  // (models/model.h, CrashState::covers), and every state it stands for is covered.
  uint64_t max_states = 2500;
  // Judge one state per class at each level (classes/, gate/check.h). Off: states share verdicts only
  // when their images are identical (lower image; extracted inner image), as before classes.
  bool classes = true;
  uint64_t seed = 1;
  int jobs = 2;
  std::string scratch_dir = "/dev/shm";
  std::string keep_trace;     // when set, the recorded trace directory is written here
  oracles::FsckOptions fsck;
  std::chrono::seconds vm_timeout{600};
  std::function<void(std::string_view)> on_console;
  std::function<void(std::string_view)> on_progress;
};

struct GateViolation {
  uint64_t id = 0;
  uint64_t state = 0;
  Level level = Level::kOuter;
  oracles::Oracle oracle = oracles::Oracle::kFsck;
  size_t segment = 0;
  size_t crash_point = 0;
  std::vector<size_t> dropped;
  std::string detail;
  std::string covers = "1";  // the lower states this one stands for (decimal): its members' set
  std::string outer_class;   // hex class keys (empty without classes; inner: when it was reached)
  std::string inner_class;
};

// One judged lower state: a member of a generated group (classes/members.h). For tests and tools;
// the reports list violations only.
struct JudgedState {
  uint64_t id = 0;
  size_t segment = 0, crash_point = 0;
  std::vector<size_t> dropped;  // of the state judged
  std::vector<size_t> fixed;    // entries it stands in for: the states that differ only there
  std::string covers = "1";
  std::string outer_class, inner_class;  // hex (inner: empty when the inner level was not reached)
  std::vector<std::pair<Level, oracles::Oracle>> failed;
};

struct SegmentGroup {   // one JUnit test case
  size_t segment = 0;
  size_t barrier = 0, first = 0, last = 0;  // entries (barrier = models::kNoEntry when none)
  uint64_t states = 0;
  std::vector<GateViolation> violations;
};

struct GateResult {
  std::string kernel, loop_mode, inject, workload, model = "fua-barrier", strategy;
  std::string outer_fs = "ext4";  // --outer
  // Lower crash states (exact decimals): what the model allows, and what the judged states stand for
  // (covered == possible: every lower state lies in a judged class). generated: groups the model
  // generated within the budget; checked: the states judged (the groups' members, classes/members.h).
  std::string possible, covered = "0";
  uint64_t generated = 0, checked = 0;
  // Classes judged by e2fsck (each one image): outer (lower images), inner (extracted backing files).
  // Without classes, the distinct images judged at each level.
  uint64_t outer_classes = 0, inner_classes = 0;
  bool classes = false;                 // classes were on
  std::vector<std::string> reductions;  // what the outer reduction fixed, one line each
  size_t entries = 0;
  std::vector<std::string> inner_marks, outer_marks;  // manifest marks per level
  std::vector<GateViolation> violations;
  std::vector<SegmentGroup> groups;
  std::vector<JudgedState> states;  // every judged state, in id order
  std::vector<std::string> notes;
  // The loop module the guest ran, as the guest saw it (/sys/module/loop): "taint=OE version=…".
  // A rebuilt loop.ko (--modules) is unsigned and out of tree: taint OE; Debian's own: no taint and no
  // version (scripts/build-loop-variant.sh stamps MODULE_VERSION("torn-VARIANT")).
  std::string loop_module;
  double boot_seconds = 0, record_seconds = 0, check_seconds = 0, total_seconds = 0;
};

Result<GateResult> RunGate(GateOptions options);

}  // namespace torn::gate
