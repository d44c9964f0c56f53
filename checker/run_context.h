// Internals of the check (run.h), shared by its stages: run.cc (the pipeline), group.cc (a group's
// members and their classes), judge.cc (the oracles on an image, and the class verdict cache).
//
// Locking: everything mutable here is guarded by Context::mu, except the atomics and the store (which
// serializes itself). A worker never holds mu while it runs an oracle.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/status.h"
#include "checker/match.h"
#include "checker/run.h"
#include "checker/setup.h"
#include "checker/state_image.h"
#include "classes/class_key.h"
#include "classes/reducer.h"
#include "models/model.h"
#include "oracles/kernel_replay.h"
#include "oracles/mount_batch.h"
#include "store/store.h"

namespace torn::checker {

// A group whose members are judged but whose verdicts are not all in yet (mount oracle in the lab VM).
struct PendingGroup {
  std::vector<store::StoredState> members;  // verdicts of each, filled as they arrive
  int waiting = 0;                          // member verdict sets still to come
};

// The image verdicts of one class: judged once by the first worker that meets its key (the owner);
// the others wait for `done` and reuse them. With the mount oracle in the lab VM, the mount verdict
// comes later: members that need it are parked until it does.
struct ClassVerdicts {
  bool done = false;
  bool mount_pending = false;
  uint64_t owner = 0;                       // the state id of the member that was judged
  std::vector<oracles::Verdict> verdicts;   // fsck, data, mount: those that ran
  std::vector<std::pair<std::shared_ptr<PendingGroup>, size_t>> parked;  // (group, member)
};

// After journal replay, without classes: e2fsck -fn's and the data oracle's verdicts of an image as
// e2fsck left it, shared by images that are the same after replay.
struct ReplayedVerdicts {
  std::optional<oracles::Verdict> full, data;
  uint64_t owner = 0;
};

struct Job {
  models::CrashState group;
};

struct Context {
  const CheckOptions* options = nullptr;
  const Setup* setup = nullptr;
  const models::StateSpace* states = nullptr;
  const classes::Reducer* reducer = nullptr;  // with classes
  MatchFilter* match = nullptr;               // --match
  store::Store* db = nullptr;
  int64_t run_id = 0;
  std::string model;

  std::mutex mu;
  std::condition_variable cv_queue, cv_class;
  std::deque<Job> queue;
  bool producing = true;
  Status error;  // the first error; stops everything
  std::map<classes::ClassKey, std::shared_ptr<ClassVerdicts>> by_class;
  std::map<std::pair<uint64_t, int>, std::shared_ptr<ReplayedVerdicts>> by_replayed;
  std::vector<store::StoredState> results;  // every state stored (outputs dropped)
  std::atomic<uint64_t> groups_done{0}, checked{0}, violating{0}, reused{0}, distinct{0}, replay_reused{0};
  std::atomic<double> covered{0};
  models::BigCount lost_states = 0;     // states given up by members whose class proof failed too often
  std::vector<std::string> lost_notes;

  // The mount oracle and the kernel's replay of fast commits in the lab VM (not --host-mount). Last,
  // so it is destroyed first: its thread uses the members above.
  std::unique_ptr<oracles::MountBatcher> vm_mount;

  void Fail(const Status& st) {
    std::lock_guard lock(mu);
    if (error.ok()) error = st;
    cv_queue.notify_all();
    cv_class.notify_all();
  }
};

// group.cc: judges one group (its members, their classes, their verdicts) and stores it.
Status JudgeGroup(Context& c, StateImage* image, const models::CrashState& group);

// What a state's image leaves for the lab VM: a copy, whose mount verdict is kept when the mount
// oracle was asked for, and the fsck and data verdicts to give after the kernel's journal replay.
struct VmRequest {
  TempFile copy;
  bool keep_mount = false;
  std::optional<oracles::KernelReplayJudge> replay;
};

// judge.cc: the image oracles on the image as it is now (the caller restores it afterwards). What
// the lab VM is to judge (the mount oracle, the kernel's replay of fast commits) goes to `vm`.
Result<std::vector<oracles::Verdict>> JudgeImage(Context& c, StateImage& image, const oracles::DataPlan::Applies& applies,
                                                 uint64_t state, std::optional<VmRequest>& vm);
// judge.cc: stores a group whose verdicts are all in, and counts it.
Status FinishGroup(Context& c, PendingGroup& group);

// The member ids of a group: the group's own id for its first member, then id | (k << 40).
inline constexpr int kMemberShift = 40;
inline uint64_t MemberId(uint64_t group, size_t k) { return group | (uint64_t(k) << kMemberShift); }

}  // namespace torn::checker
