// The fsck oracle: userspace journal replay, then a full read-only check, on a scratch copy of a crash
// state's image (journal replay writes to it; the state's own image stays untouched).
//
//   1. e2fsck -E journal_only -y IMG   replays the journal as the kernel would at mount
//   2. e2fsck -fn IMG                  full check, changes nothing
//
// Each run has a time limit. How e2fsck ended is decoded in two steps: the wait status first (base's
// DecodeWaitStatus: exited, killed by a signal, timed out), then e2fsck's exit bits, in one function
// (DecodeE2fsckExit), tested one code at a time. A hung or crashing e2fsck is a verdict ("e2fsck hung",
// "e2fsck crashed"), never a hang of torn.
//
// e2fsck's exit bits (e2fsck(8)): 1 errors corrected, 2 corrected and the system should reboot,
// 4 errors left uncorrected, 8 operational error, 16 usage or syntax error, 32 cancelled by the user,
// 128 shared-library error. With -n nothing is corrected, so any error found shows as 4.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/subprocess.h"
#include "oracles/verdict.h"

namespace torn::oracles {

struct E2fsckExit {
  enum class Kind {
    kClean,        // exit 0
    kCorrected,    // bits 1 or 2 only: errors found and fixed (journal_only: the journal was replayed)
    kUncorrected,  // bit 4: errors left
    kOperational,  // bit 8: e2fsck could not do its job (no super block, cannot open)
    kUsage,        // bit 16: torn called it wrongly (a bug in torn, not a verdict on the image)
    kCancelled,    // bit 32
    kLibrary,      // bit 128
    kHung,         // ran past its time limit and was killed
    kCrashed,      // killed by a signal
    kInterrupted,  // the user interrupted torn
  };
  Kind kind = Kind::kClean;
  int bits = 0;
  std::string text;  // "exit 4: errors left uncorrected", "e2fsck hung (killed after 60 s)"
};

// The one place e2fsck's ending is interpreted. `limit` is only used in the message of a hang.
E2fsckExit DecodeE2fsckExit(const ExitStatus& status, std::chrono::milliseconds limit);

// Each e2fsck run gets a configuration naming a problem log (E2FSCK_CONFIG; nothing else in it): the
// codes of the problems it met (e2fsck/problem.c, e.g. 0x020047 "entry references an inode in the unused
// inodes area"), sorted and without repeats, follow the step's exit line in the verdict's output as
// "[problems: 0x020003,0x020047]" (no line when there were none). They name what failed without
// this image's numbers: the fsck signature (triage/signature.h).
inline constexpr std::string_view kProblemsPrefix = "[problems: ";

struct FsckOptions {
  std::string e2fsck = "e2fsck";         // program, looked up on PATH
  std::chrono::milliseconds timeout{60000};  // per e2fsck run
  bool journal_replay = true;            // step 1; off only to check an image as it is
  bool full_check = true;                // step 2
  // Skip step 1 when the image's ext4 super block does not ask for recovery (RECOVER clear). Off by
  // default: step 1 with -y also repairs a damaged journal super block, which -fn alone reports, so
  // skipping changes verdicts (seen on a barrier-less trace).
  bool skip_needless_replay = false;
  // When set, step 1 runs with `-z undo_file`: e2fsck saves every block's old bytes there before it
  // writes it (undo_file.h), so the caller can put the image back (StateImage::Restore).
  std::string undo_file;
};

// True when the ext4 super block at byte 1024 is valid and has the RECOVER flag clear.
bool JournalReplayNeedless(const std::string& image);
// True when it is valid, has the fast_commit feature and the RECOVER flag set: the journal replay may
// include a fast-commit replay, which the checker leaves to the kernel (kernel_replay.h).
bool FastCommitRecoveryPending(const std::string& image);

// Step 1 alone (journal replay; `image` is modified) and step 2 alone (the full check), each a verdict
// of its own with the same rules as RunFsck. The checker runs them apart to reuse step 2's verdict
// for images that are the same after journal replay.
Result<Verdict> ReplayJournal(const std::string& image, const FsckOptions& options);
Result<Verdict> FullCheck(const std::string& image, const FsckOptions& options);

// Runs the steps on `image` (modified by step 1). The verdict fails when step 1 leaves errors or
// cannot run (bits 4, 8, 32, 128, hung, crashed) or step 2 exits non-zero. The Status is an error
// only when e2fsck cannot be started, torn misused it (bit 16), or the user interrupted.
Result<Verdict> RunFsck(const std::string& image, const FsckOptions& options);

}  // namespace torn::oracles
