// The fsck and data oracles after the kernel's journal replay, for states whose replay e2fsck gets
// wrong.
//
// Why: e2fsprogs 1.47.0 replays fast commits otherwise than the kernel does. All 57 signatures of a
// 1-hour fast_commit fuzz campaign were e2fsck's replay (docs/fuzz.md): after the kernel's replay (6.1
// in the lab VM, 6.18 on this host) the same states are clean and hold what was promised; after
// `e2fsck -E journal_only` they are not. So a state whose ext4 super block has fast_commit and RECOVER
// (FastCommitRecoveryPending, fsck.h) is judged on a copy that a kernel mounted, walked and unmounted,
// the mount oracle's path (the lab VM, mount_vm.h, or this host with --host-mount, mount.h):
//   fsck  `e2fsck -fn` on what the kernel left ("after the kernel's journal replay: ...");
//   data  the data oracle (data.h) on it.
// The mount's own verdict is kept only when the mount oracle was asked for. A kernel that could not
// mount the state, or died on it, left nothing to check: fsck and data then fail with the mount's
// detail ("the kernel's journal replay failed: ...").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "oracles/data.h"
#include "oracles/verdict.h"

namespace torn::oracles {

// What to judge on an image as the kernel left it (mounted and unmounted); called only when the
// kernel mounted it. The mount oracles call it on their copy before they remove it, with the
// `e2fsck -fn` verdict they took of that copy themselves (so that e2fsck runs once).
using AfterKernel = std::function<Result<std::vector<Verdict>>(const std::string& image, const Verdict& full_check)>;

struct KernelReplayJudge {
  bool fsck = false, data = false;  // which verdicts to give
  DataPlan::Applies applies;        // the data oracle's rule for the state (points into the run's plan)
};

// The hook that gives `what`'s verdicts, fsck first (the mount oracle's e2fsck -fn verdict).
AfterKernel JudgeAfterKernel(KernelReplayJudge what);

// The fsck and data verdicts of a state judged after the kernel's replay: `after` (from the hook)
// when the kernel mounted it, else failing verdicts that carry `mount`'s detail.
std::vector<Verdict> KernelReplayVerdicts(const Verdict& mount, std::vector<Verdict> after,
                                          const KernelReplayJudge& what);

}  // namespace torn::oracles
