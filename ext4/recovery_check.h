// Checking in-process journal recovery (recovery.h) against the real thing: `e2fsck -E journal_only
// -y` (e2fsprogs 1.47.0) run on the same image with its clock fixed.
//
// The rule under test: whenever Recover says kNoJournal, kClean or kReplayed, the bytes it says e2fsck
// writes are the bytes e2fsck writes, everywhere but the ext4 super block's stamped fields
// (kStampedSuperFields), and e2fsck exits 0 (with journal_only, check_if_skip ends every run that
// finds nothing to repair with exit 0; any other status means e2fsck went on to repairs or gave up).
//
// The comparison is a pure function over what e2fsck wrote (regions with their bytes before and after,
// from its undo file or from a diff of the image) and a view of the image as it was before e2fsck: it
// knows nothing of how the image was built. Running e2fsck is a separate helper, shared by the unit
// tests, the corpus test and the fuzzer; the clock is fixed with libfaketime (Debian package
// faketime) so that runs are reproducible, and e2fsck's configuration file is ignored as the fsck
// oracle does (E2FSCK_CONFIG=/dev/null).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/subprocess.h"
#include "ext4/image_view.h"
#include "ext4/recovery.h"

namespace torn::ext4 {

// libfaketime's preload library and the time it gives e2fsck.
inline constexpr char kFakeTimeLibrary[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
inline constexpr char kFakeTime[] = "@2026-01-01 00:00:00";

// The environment e2fsck runs in for comparisons: fixed clock, no configuration file, C locale.
std::vector<std::string> FixedClockEnv();

// Runs `e2fsck -E journal_only -y [-z UNDO] IMAGE` in FixedClockEnv (the image is modified). The
// Status is an error when e2fsck cannot be started or libfaketime is missing.
Result<RunResult> RunE2fsckJournalOnly(const std::string& image, const std::string& undo_file = "",
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A byte range e2fsck wrote: the image's bytes there before and after e2fsck ran.
struct E2fsckRegion {
  uint64_t offset = 0;
  std::vector<std::byte> before, after;
};

// e2fsck's side of a comparison: every region it wrote (or at least every region it changed; a block
// left out reads as unchanged) and how it ended.
struct E2fsckRecovery {
  std::vector<E2fsckRegion> regions;
  ExitStatus exit;
  std::string output;
};

// Runs e2fsck on a scratch copy of `image` (in `scratch_dir`) and returns the blocks that differ
// afterwards. For small images (unit tests, the fuzzer's base image); the corpus test uses undo files.
Result<E2fsckRecovery> RecoverWithE2fsck(const std::string& image, const std::string& scratch_dir);

// One difference: where (the field of the ext4 or journal super block, the group descriptor's field,
// or the block), and both values in hex.
struct RecoveryDifference {
  uint64_t offset = 0;  // byte offset in the image
  std::string where;    // "ext4 super block s_state", "journal super block s_sequence", "block 4711"
  std::string e2fsck, torn;
  std::string text() const;  // "ext4 super block s_state (byte 1082): e2fsck 0x0001, torn 0x0003"
};

// Compares Recover's writes with e2fsck's. `before` reads the image as it was before e2fsck ran.
// Stamped fields (kStampedSuperFields) are left out. A RecoveryResult that is kUnsupported has no
// writes to compare: the result is empty. A status other than exit 0 is a difference of its own.
Result<std::vector<RecoveryDifference>> CompareRecovery(const RecoveryResult& result,
                                                        const E2fsckRecovery& e2fsck, ImageView& before);

// "3 differences: ...; ..." (at most `max` listed), for test messages.
std::string DescribeDifferences(const std::vector<RecoveryDifference>& diffs, size_t max = 10);

}  // namespace torn::ext4
