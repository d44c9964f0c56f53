// In-process journal recovery: what `e2fsck -E journal_only -y` (e2fsprogs 1.47.0, e2fsck/journal.c
// and e2fsck/recovery.c) writes to an ext4 image whose internal jbd2 journal needs replaying,
// computed without writing anything: the result is a list of block writes, which ApplyRecovery puts
// on an ImageView's overlay (the recovered image the class key is computed from, classes/).
//
// What is emulated (the design note with the argument for each rule is in docs/recovery.md):
//   1. Finding the journal as e2fsck does: the ext4 super block (primary, through libext2fs on the
//      view, so the same validation as e2fsck), the journal inode (s_journal_inum) and its block map,
//      the journal super block (v1/v2, block size, s_maxlen, s_first, features, checksum type and
//      checksum, fast-commit area size).
//   2. e2fsck_check_ext3_journal's decisions on the super block flags: needs_recovery set and the
//      journal's s_start != 0 -> replay; both clear -> nothing; needs_recovery set with s_start == 0
//      -> replay of nothing (the journal's s_sequence still moves on, as e2fsck does).
//   3. jbd2_journal_recover's three passes (scan, revoke, replay) as do_one_pass does them: sequence
//      numbers and their wrap (tid_gt), log wrap at s_maxlen (or the fast-commit area's start),
//      descriptor tags of every layout (csum v3 16-byte tags, v2, 64-bit, SAME_UUID, LAST_TAG), block
//      escapes, revoke records (32/64-bit) and revoke hits by transaction, COMPAT_CHECKSUM (v1, crc32
//      over descriptor and data blocks in the scan), INCOMPAT_CSUM_V2/V3 (descriptor, revoke, commit
//      and per-tag block checksums, crc32c seeded with the journal UUID), commit-time checks
//      (need_check_commit_time), async commit, j_failed_commit.
//   4. What e2fsck writes after the passes: the journal super block (s_sequence = end + 1, s_start = 0,
//      s_errno, its checksum), the ext4 super block (needs_recovery cleared; not-valid on a recovery
//      error; the error state when the journal's s_errno is set).
// The ext4 super block fields e2fsck stamps from the clock or from its own I/O counters (s_wtime,
// s_kbytes_written) and the super block checksum are listed in kStampedSuperFields: callers that
// compare a recovered image with e2fsck's must leave them out; Recover writes them unchanged.
//
// What is not emulated, reported as RecoveryOutcome::kUnsupported with the reason (the caller then
// judges the state without classes, with real e2fsck only): an external journal; a journal super block
// e2fsck would reset or refuse (bad magic, unknown features, bad checksum, s_nr_users > 1, ...);
// needs_recovery clear while the journal is not empty (e2fsck replays it, the kernel wipes it);
// fast-commit replay (a fast-commit area whose first block holds a head tag: e2fsck and the kernel
// differ there); a journal inode libext2fs cannot map.
//
// Every read goes through the view, so its record of reads (image_view.h) says what the outcome
// depends on. RecoveryResult also says where the log's committed part lies, for the class proofs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ext4/image_view.h"

namespace torn::ext4 {

enum class RecoveryOutcome {
  kNoJournal,    // no internal journal (has_journal clear and no journal inode): nothing to do
  kClean,        // needs_recovery clear and the journal empty: e2fsck writes nothing
  kReplayed,     // the passes ran (possibly replaying no block); `writes` holds what e2fsck writes
  kUnsupported,  // a case torn does not emulate; `why` names it
};

struct RecoveryResult {
  RecoveryOutcome outcome = RecoveryOutcome::kClean;
  std::string why;          // kUnsupported: the reason, naming the block or field
  int error = 0;            // what the passes returned (0, -EFSBADCRC, -EIO, ...), negative errno
  uint32_t block_size = 0;  // the file system's block size
  // Transactions [start_tid, end_tid) were replayed; end_tid is the first one found not committed.
  uint32_t start_tid = 0, end_tid = 0;
  uint32_t failed_commit = 0;              // j_failed_commit (0: none)
  uint64_t replayed = 0, revoke_hits = 0;  // blocks written home; tagged blocks skipped as revoked

  // Where the journal lives: journal block n is file-system block journal_map[n] (n < s_maxlen).
  std::vector<uint64_t> journal_map;
  uint32_t log_first = 0, log_end = 0;  // the log's blocks [s_first, end) (end: s_maxlen, or the
                                        // fast-commit area's start)
  // The committed part of the log as the scan found it: journal blocks from log_start (s_start) up to
  // committed_end (exclusive, wrapping at log_end); empty when the journal was clean.
  uint32_t log_start = 0, committed_end = 0;

  // Whole file-system blocks e2fsck writes, in the order it writes them (a later write of the same
  // block wins): home blocks replayed from the log, then the journal super block, then the ext4
  // super block's block.
  struct Write {
    uint64_t block = 0;
    std::vector<std::byte> bytes;
  };
  std::vector<Write> writes;
};

// Recovers the file system in `view` (read-only: nothing is written to the view or its file). The
// Status is an error only when the image cannot be read at all (I/O); damaged content is an outcome.
Result<RecoveryResult> Recover(ImageView& view);

// Puts the result's writes on the view's overlay: the view then reads as the recovered image.
void ApplyRecovery(const RecoveryResult& result, ImageView& view);

// "no-journal", "clean", "replayed", "unsupported".
std::string_view OutcomeName(RecoveryOutcome outcome);

// ext4 super block fields (byte offset within the super block, length) that e2fsck sets from the
// clock or from what it wrote, plus the checksum over the rest: not part of what recovery decides.
inline constexpr std::pair<uint32_t, uint32_t> kStampedSuperFields[] = {
    {0x30, 4},   // s_wtime
    {0x274, 1},  // s_wtime_hi
    {0x178, 8},  // s_kbytes_written
    {0x3FC, 4},  // s_checksum
};

}  // namespace torn::ext4
