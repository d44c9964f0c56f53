// `torn record --vm`: records a workload's block I/O through dm-log-writes inside the lab VM and
// writes a trace directory (trace/trace_dir.h).
//
// Steps: resolve the kernel (Debian's, cached, or --kernel) and build the initramfs (lab/); make a
// sparse data disk of --size and a sparse log disk in a temporary folder; run the guest job
// (recorder/guest_job.h) with the console streamed to the caller; then, only if the job succeeded:
//   1. no dm-log-writes error on the console (a full log device: "Ran out of space on the logdev";
//      a failed log write) -- else the log is incomplete and the recording fails;
//   2. the log parses (trace::Log) and its marks are exactly the marks the guest sent, in order,
//      followed by "dm-log-writes-end";
//   3. every manifest is keyed by one of those marks;
// and writes DIR/log.zst, DIR/trace.json (source: kernel, fs, options, sector size, device size,
// workload text, torn version, time, accelerator, timings), DIR/expectations.json, DIR/console.log.
// Any failure (setup, workload status, panic, time limit, full log) is a Status whose message names
// it and ends with the console's tail; nothing is written to DIR then, and the temporary disks go.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lab/vm.h"

namespace torn::recorder {

struct VmRecordOptions {
  std::string workload_path;               // for messages and the description
  std::string workload;                    // the script's text
  std::string out;                         // the trace directory to write
  std::string fs = "ext4";                 // ext4; xfs and btrfs when their mkfs is installed
  std::string mkfs_opts, mount_opts;
  uint64_t device_bytes = 128ull << 20;
  unsigned sector = 512;                   // 512 or 4096
  uint64_t log_bytes = 1ull << 30;         // the log disk (sparse)
  std::string kernel_image;                // empty: Debian's, from the cache
  std::string modules_dir;                 // the kernel's lib/modules/<release>; empty: found beside it
  std::chrono::seconds timeout{600};
  lab::Accel accel = lab::Accel::kAuto;
  bool overwrite = false;
  std::function<void(std::string_view)> on_console;
  std::function<void(std::string_view)> on_progress;  // one line about what torn is doing
};

struct VmRecordResult {
  size_t entries = 0;
  std::vector<std::string> marks;
  size_t manifests = 0;
  uint64_t log_bytes = 0;   // of the plain log
  double seconds = 0;       // start of RecordInVm to the trace on disk
  double boot_seconds = 0;  // qemu start to the job's start
  double guest_seconds = 0; // qemu start to qemu exit
  std::string accel;
};

Result<VmRecordResult> RecordInVm(const VmRecordOptions& options);


}  // namespace torn::recorder
