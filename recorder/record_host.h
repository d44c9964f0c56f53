// `torn record --host --dev DEV --log-dev LOGDEV -- CMD...`: records on a machine whose kernel has
// device-mapper, without a VM.
//
// Order (each step's failure is one clear line and exit status 2, with nothing left behind):
//   1. checks the arguments: DEV and LOGDEV are block devices, distinct, and neither is mounted (or
//      held: both are opened O_EXCL for a moment); a command is given;
//   2. checks that device-mapper answers (recorder/dm.h);
//   3. creates the target "torn-rec-<pid>" = log-writes DEV LOGDEV over all of DEV;
//   4. runs CMD (no shell; pass `sh -c '...'` for one) with $DEV = /dev/mapper/torn-rec-<pid>,
//      $TORN_DM_TARGET = the target's name, and the directory of this torn binary first on PATH, so
//      `torn mark NAME` inserts a mark;
//   5. removes the target (the kernel appends "dm-log-writes-end"), then imports LOGDEV as the trace
//      directory DIR (as `torn import` does), with CMD in the description.
// CMD failing (non-zero status) fails the recording: the log is not imported.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace torn::recorder {

struct HostRecordOptions {
  std::string dev, log_dev, out;
  std::vector<std::string> command;
  std::chrono::seconds timeout{0};  // 0: none
  bool overwrite = false;
};

struct HostRecordResult {
  size_t entries = 0;
  size_t marks = 0;
};

// Step 1 alone (for tests and for a clear early refusal).
Status CheckHostRecordArgs(const HostRecordOptions& options);

Result<HostRecordResult> RecordOnHost(const HostRecordOptions& options);

}  // namespace torn::recorder
