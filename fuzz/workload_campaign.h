// workload_fuzzer's campaign mode (TORN_FUZZ_RECORD=1, docs/fuzz.md "libFuzzer and OSS-Fuzz"): each input's
// workload is recorded in the lab VM the way `torn fuzz` records it (campaign/record_batch.h, a batch of
// one) and its trace checked the way `torn fuzz` checks it (checker/run.h: classes on; fsck, data and
// ordering oracles; the same state and time budget per workload). What the check observed is handed
// out as features for libFuzzer's extra counters:
//   jbd2 transaction shapes   per transaction of the trace's journal map (ext4/journal_map.h): its
//                             descriptor, revoke and data block counts (bucketed), committed or not
//   window patterns           per window (a segment between barriers): writes fixed by the reduction,
//                             classes, groups generated (bucketed)
//   block-role patterns       per window: its writes by the rule that fixed them (overwritten by
//                             journal replay, journal tail, unread file data, same bytes) and those
//                             left free, each count bucketed (checker/run.h, window_units)
//   e2fsck problems           each line of a failed fsck verdict's output, numbers blanked
//   signatures, class counts  each violation's campaign signature with its oracle; the class total
// and each violation's signature is returned: the fuzzer aborts with them so libFuzzer keeps the input.
//
// Options from the environment: TORN_FUZZ_MOUNT_OPTS, TORN_FUZZ_MKFS_OPTS, TORN_FUZZ_STATES (300),
// TORN_FUZZ_CHECK_TIME (seconds, 60), TORN_FUZZ_KEEP (a directory: each failing trace is kept there).
// Needs root, QEMU and the lab's kernel (as `torn fuzz` does).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "fuzz/workload_checks.h"

namespace torn::fuzz {

struct RecordMode {
  std::string mount_opts, mkfs_opts, keep;
  uint64_t states = 300;
  int check_seconds = 60;
};

// Reads the TORN_FUZZ_* variables; nullopt-like: enabled false when TORN_FUZZ_RECORD is not 1.
struct RecordModeEnv {
  bool enabled = false;
  RecordMode mode;
};
RecordModeEnv RecordModeFromEnv();

// Records and checks `text`; features go to `feature`; returns the failing signatures ("fsck: ...").
Result<std::vector<std::string>> RecordAndCheck(const std::string& text, const RecordMode& mode,
                                                const FeatureSink& feature);

}  // namespace torn::fuzz
