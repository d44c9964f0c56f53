// Judging crash states again, one oracle at a time, as torn check judged them: for minimization
// (minimize.h), which asks about hundreds of states that differ from one failing state in a few writes.
//
// Per state, cheapest first:
//   ordering  OrderingOracle::Check on the trace (no image);
//   others    the state put on a StateImage (checker/state_image.h: only the sectors that differ from
//             the state before are written), its class key computed in process (classes/class_key.h:
//             journal recovery and block roles, no e2fsck), and the verdict of an earlier state with the
//             same key reused (a cache for the life of this object: equal keys mean equal verdicts,
//             docs/checker.md "Classes"); else the oracle for real:
//               fsck   e2fsck -E journal_only -y (with an undo file: the image is put back), then
//                      e2fsck -fn;
//               data   the same journal replay, then the data oracle on the replayed image;
//               mount  with --host-mount this machine's kernel (CheckMount), else the lab VM: every
//                      state of one Judge() call whose key is new goes to one boot (MountInVm).
// Every verdict gets its signature (signature.h). Stats count what it cost.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "checker/setup.h"
#include "checker/state_image.h"
#include "classes/class_key.h"
#include "models/model.h"
#include "oracles/fsck.h"
#include "oracles/kernel_replay.h"
#include "oracles/mount_vm.h"
#include "oracles/verdict.h"

namespace torn::triage {

struct RejudgeOptions {
  oracles::Oracle oracle = oracles::Oracle::kFsck;
  oracles::FsckOptions fsck;
  bool host_mount = false;             // the mount oracle on this machine's kernel
  oracles::VmMountOptions vm_mount;    // else in the lab VM
  // fsck and data on states of a fast_commit file system that need recovery: after the kernel's
  // journal replay (the mount oracle's path), as torn check judges them (oracles/kernel_replay.h).
  bool kernel_replays_fast_commits = true;
  std::string scratch_dir = "/dev/shm";
};

struct RejudgeStats {
  uint64_t states = 0;        // states asked about
  uint64_t cache_hits = 0;    // of those, answered by an earlier state's verdict with the same key
  uint64_t judged = 0;        // judged by the oracle for real
  uint64_t e2fsck_runs = 0;   // e2fsck processes started
  uint64_t mounts = 0, boots = 0;
};

class Rejudge {
 public:
  // `setup` (the trace, its data plan and journal map) must outlive the object.
  static Result<std::unique_ptr<Rejudge>> Create(const checker::Setup& setup, const RejudgeOptions& options);

  // The verdicts of `states`, in order. With `stop_unless`, judging stops after the first verdict that
  // fails with that signature (the result is then shorter): what ddmin needs (ddmin.h, TestBatch).
  Result<std::vector<oracles::Verdict>> Judge(std::span<const models::CrashState> states,
                                              const std::optional<std::string>& stop_at_signature = {});

  // The analysis of one state's image (journal recovery, block roles of the recovered image) and a view
  // of the recovered image, for explain.h. Valid until the next call.
  struct Recovered {
    classes::Analysis analysis;
    std::unique_ptr<ext4::ImageView> view;  // the state's image with recovery's writes on top
  };
  Result<Recovered> Recover(const models::CrashState& state);

  const RejudgeStats& stats() const { return stats_; }
  const checker::Setup& setup() const { return *setup_; }

 private:
  Rejudge() = default;
  // The state on the image, its key and data rule.
  Result<classes::ClassKey> Place(const models::CrashState& state, oracles::DataPlan::Applies& applies);
  Result<oracles::Verdict> JudgeHere(const oracles::DataPlan::Applies& applies);
  // For the state on the image: what to judge after the kernel's replay, when it needs one.
  std::optional<oracles::KernelReplayJudge> KernelReplay(const oracles::DataPlan::Applies& applies) const;
  oracles::Verdict FromKernel(oracles::Verdict mount, std::vector<oracles::Verdict> after,
                              const std::optional<oracles::KernelReplayJudge>& replay) const;

  const checker::Setup* setup_ = nullptr;
  RejudgeOptions options_;
  std::optional<checker::StateImage> image_;
  std::map<classes::ClassKey, oracles::Verdict> cache_;
  RejudgeStats stats_;
};

}  // namespace torn::triage
