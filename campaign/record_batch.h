// Many workloads recorded in one boot of the lab VM (`torn fuzz`, docs/fuzz.md), one trace each.
//
// Disks: vda the data disk (--size, sparse), vdb one log disk cut into slots of kSlotBytes, slot i
// for workload i. The guest job (batch_job.sh in record_batch.cc), per workload i, in order:
//   1. dm-linear torn-slot over slot i of vdb; dm-log-writes torn-log over vda logging to torn-slot;
//   2. mkfs on torn-log (a fresh file system: every trace starts from zeros and mkfs), mark "mkfs";
//   3. mount at /mnt, then torn-runner (workload/runner_main.cc) runs the workload, marks every
//      persistence operation, "end" after the last one and "umount" after it unmounted /mnt;
//   4. dmsetup remove torn-log (the mark dm-log-writes-end) and torn-slot;
//   and reports "TORN-FUZZ-BEGIN i" before and "TORN-FUZZ-END i STATUS" after on the report channel.
// On the host each workload that reached its END is taken from its slot (the log's own length, read
// from its super block and entry headers, bounds-checked against the slot), its marks compared with
// the marks its runner reported, and written as a trace directory with its expectations. A guest
// that dies part way leaves the workloads after the last END without a trace (their status says so).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lab/vm.h"

namespace torn::campaign {

inline constexpr uint64_t kSlotBytes = 64ull << 20;

struct BatchOptions {
  std::string fs = "ext4";
  std::string mkfs_opts, mount_opts;
  uint64_t device_bytes = 32ull << 20;
  unsigned sector = 512;
  std::string kernel_image;             // empty: Debian's
  std::string runner;                   // torn-runner; empty: found beside torn (RunnerPath)
  std::chrono::seconds timeout{900};
  lab::Accel accel = lab::Accel::kAuto;
  std::function<void(std::string_view)> on_console;
  std::function<void(std::string_view)> on_progress;
};

struct BatchItem {
  std::string workload;  // the text (workload/op.h)
  std::string out;       // the trace directory to write
};

struct ItemResult {
  Status status;          // ok: the trace is written
  int runner_exit = -1;   // torn-runner's status (1: an operation failed, see op_failures)
  std::vector<std::string> op_failures;  // "N what" from TORN-OP-FAILED
  size_t entries = 0;
};

struct BatchResult {
  std::vector<ItemResult> items;  // in the order given
  double boot_seconds = 0, guest_seconds = 0, seconds = 0;
  std::string accel;
  std::string console;  // the guest's console (its tail), for a failure's story
};

Result<BatchResult> RecordBatch(const BatchOptions& options, const std::vector<BatchItem>& items);

// The static torn-runner: $TORN_RUNNER, else beside the running torn (BIN/torn-runner or
// BIN/../workload/torn-runner in the build tree), else the path this torn was built with.
Result<std::string> RunnerPath();

// The end of a dm-log-writes log held in `bytes` (its super block's entry count, each entry's header
// and data), or an error when the log is damaged or runs past the bytes.
Result<uint64_t> LogLength(std::string_view bytes);

}  // namespace torn::campaign
