// In-process journal recovery: what `e2fsck -E journal_only -y` (e2fsprogs 1.47.0, Debian 12's, as
// torn's fsck oracle runs it) writes to an ext4 image whose internal jbd2 journal needs replaying,
// computed without writing anything: the result is a list of block writes, which ApplyRecovery puts
// on an ImageView's overlay (the recovered image the class key is computed from, classes/).
//
// What is emulated (the design note with where each rule comes from in e2fsprogs is docs/recovery.md;
// the code follows unix.c main()'s order, recovery.cc):
//   1. Opening the file system as e2fsck does (libext2fs on the view, checksums verified, group
//      descriptors checked) and finding the journal: s_journal_inum, the inode read and walked as
//      e2fsck_get_journal does, journal blocks mapped with ext2fs_bmap2 through the inode as read.
//   2. Loading the journal super block (e2fsck_journal_load): v1/v2, features, checksum type and
//      checksum, block size, s_maxlen against the inode's size, the fast-commit area's size.
//   3. e2fsck_check_ext3_journal: needs_recovery set -> recovery; clear with an empty log -> nothing
//      (the journal's s_errno, if set, becomes ERROR_FS in the ext4 super block and is cleared).
//   4. jbd2_journal_recover (recovery_passes.cc has the rules): scan, revoke and replay passes,
//      sequence numbers compared modulo 2^32, the log wrapping at s_maxlen (also with fast_commit:
//      1.47.0 wraps there, not at the fast-commit area), tags of every layout, escaped blocks, revoke
//      records, v1 crc32 commit checksums and v2/v3 crc32c checksums of tags, descriptor and revoke
//      tails and commit blocks with their commit-time rules, async commit, j_failed_commit, and the
//      first fast-commit block's head tag. needs_recovery with s_start == 0 replays nothing.
//   5. What e2fsck writes after the passes: the journal super block (s_sequence = end + 1, or
//      unchanged after an error; s_start = 0; s_errno; checksum), the ext4 super block after the
//      reopen (needs_recovery cleared; VALID cleared after a recovery error; ERROR_FS after a failed
//      commit) and the primary group descriptors as read, both flushed at close; the restart's
//      journal check and close. Writes that change nothing are left out of `writes`.
// The ext4 super block fields e2fsck stamps from the clock or from its own I/O counters are listed in
// kStampedSuperFields: callers that compare a recovered image with e2fsck's must leave them out;
// Recover writes them unchanged (and a super block checksum that is valid for what it writes).
//
// What is not emulated, reported as RecoveryOutcome::kUnsupported with the reason (the caller then
// judges the state without classes, with real e2fsck only): an external journal; a journal inode or
// journal super block e2fsck would rebuild, reset, clear or refuse (bad magic, unknown features, bad
// checksum, s_nr_users > 1, too short, ...); needs_recovery clear while the log is not empty (e2fsck
// replays it and forces a full check); a fast commit to replay (the first fast-commit block holds a
// head tag for the transaction after the log; a head tag of another transaction fails recovery, and
// that is emulated); a super block or group descriptors e2fsck cannot open or would repair; and
// everything check_super_block would change after recovery: orphan inodes, descriptor checksums and
// flags, quota inodes, the journal backup in the super block, a missing directory hash hint, a check
// interval (its time checks depend on the clock), MMP. A log that loops on itself (e2fsck would never
// end) is unsupported too.
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
  bool fast_commit = false;  // the file system has fast_commit: recovery reads the fast-commit area
  // Transactions [start_tid, end_tid) were replayed; end_tid is the first one found not committed.
  uint32_t start_tid = 0, end_tid = 0;
  uint32_t failed_commit = 0;              // j_failed_commit (0: none)
  uint64_t replayed = 0, revoke_hits = 0;  // blocks written home; tagged blocks skipped as revoked

  // Where the journal lives: journal block n is file-system block journal_map[n] (n < s_maxlen),
  // filled whenever a journal is found.
  std::vector<uint64_t> journal_map;
  // The log's blocks [s_first, log_end): where recovery wraps, s_maxlen (e2fsprogs 1.47.0 wraps there
  // with fast_commit too; the kernel writes the log only up to the fast-commit area).
  uint32_t log_first = 0, log_end = 0;
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
  // Every block e2fsck writes, sorted: `writes` leaves out those it writes with the bytes they hold
  // already; here they count, since in another state those bytes may differ (the class proofs).
  std::vector<uint64_t> written;
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
// Found by comparing with e2fsck on every corpus state (docs/recovery.md): nothing else differs.
inline constexpr std::pair<uint32_t, uint32_t> kStampedSuperFields[] = {
    // s_wtime: ext2fs_flush2 sets it to the clock (fs->now) at every flush. Its high byte s_wtime_hi
    // is not touched by libext2fs 1.47.0's flush, so it is compared.
    {0x30, 4},
    // s_kbytes_written: e2fsck adds the bytes its own I/O channel wrote (the replay, every rewrite of
    // the journal super block, the flushes, rounded per flush): a count of e2fsck's I/O, which
    // depends on its I/O manager (an undo file's manager passes the stats on), not on the image.
    {0x178, 8},
    // s_checksum: crc32c over the super block, so it differs whenever the fields above do. Recover
    // writes the checksum of the bytes it writes.
    {0x3FC, 4},
};

}  // namespace torn::ext4
