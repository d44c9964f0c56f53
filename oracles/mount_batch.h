// The mount oracle in the lab VM, fed by the checker's workers. A boot costs seconds (about 8 s under
// TCG), a mount a fraction of one, so images are judged in batches (mount_vm.h: one boot, many images)
// on a thread of their own while the workers go on with other states. Each image comes with what to
// do with its verdict; the run stores a state only once every verdict is in (run.h, invariant 1).
//
// Rules: images are judged in the order they were added; a batch starts when `batch` images wait, or
// at Close(); the first error (from the VM or from a Done) is passed to `on_error` once and stops the
// batcher: what is still queued is dropped, and so are the image copies.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "base/temp_file.h"
#include "oracles/mount_vm.h"
#include "oracles/verdict.h"

namespace torn::oracles {

class MountBatcher {
 public:
  // The mount verdict, and the `after` hook's verdicts (mount_vm.h's VmMountResult::after).
  using Done = std::function<Status(Verdict mount, std::vector<Verdict> after)>;

  MountBatcher(VmMountOptions options, size_t batch, std::function<void(const Status&)> on_error);
  ~MountBatcher();  // stops the thread; what is queued is dropped
  MountBatcher(const MountBatcher&) = delete;
  MountBatcher& operator=(const MountBatcher&) = delete;

  // Queues `image` (a copy of a state's image the batcher now owns and removes once judged), with an
  // optional hook to judge it as the kernel left it (kernel_replay.h).
  void Add(TempFile image, Done done, AfterKernel after = nullptr);
  // Judges what is queued, then stops. Ok unless a batch or a Done failed.
  Status Close();

  uint64_t boots() const;
  uint64_t judged() const;

 private:
  struct Item {
    TempFile image;
    Done done;
    AfterKernel after;
  };
  void Loop();

  VmMountOptions options_;
  size_t batch_;
  std::function<void(const Status&)> on_error_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool closing_ = false, stopped_ = false;
  Status error_;
  uint64_t boots_ = 0, judged_ = 0;
  std::thread thread_;
};

}  // namespace torn::oracles
