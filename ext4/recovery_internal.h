// Internals of in-process journal recovery (recovery.h), shared by its three parts:
//   recovery_journal.cc  finding and loading the journal as e2fsck does (e2fsck_get_journal,
//                        e2fsck_journal_load, e2fsck_journal_release), reading its blocks (jread)
//   recovery_passes.cc   jbd2_journal_recover: the scan, revoke and replay passes (do_one_pass)
//   recovery_fsck.cc     what e2fsck's main() does around them: opening the file system,
//                        e2fsck_check_ext3_journal, check_super_block (as a list of conditions under
//                        which it would change something), and the writes at close (ext2fs_flush)
// recovery.cc strings them together in the order unix.c's main() runs them.
//
// Conventions:
//   - A case torn does not emulate is a Status with Code::kUnavailable whose message says why
//     (Unsupported()); Recover turns it into RecoveryOutcome::kUnsupported. Any other error Status is
//     an I/O failure of torn itself.
//   - Errors of the jbd2 code (what jread and do_one_pass return) are negative errnos, as the kernel
//     spells them: -EBADMSG for EFSBADCRC, -EUCLEAN for EFSCORRUPTED. e2fsprogs uses its own numbers
//     for those two; only "zero or not" reaches the disk.
//   - Integer widths follow e2fsprogs' types where arithmetic can wrap: journal positions are
//     `unsigned long` (uint64_t), jread's offset is `unsigned int`, transaction ids are tid_t.
#pragma once

#include <ext2fs/ext2fs.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext4/ext2_view.h"
#include "ext4/image_view.h"
#include "ext4/jbd2_format.h"
#include "ext4/recovery.h"

namespace torn::ext4::recovery {

inline Status Unsupported(std::string why) { return Status(Code::kUnavailable, std::move(why)); }
inline bool IsUnsupported(const Status& s) { return s.code() == Code::kUnavailable; }

inline constexpr int kEfsBadCrc = EBADMSG, kEfsCorrupted = EUCLEAN;

// The image as the emulated e2fsck sees it: a copy of the caller's view (same file, same overlay,
// same record of reads, so every read lands in the caller's record) plus every block written so far.
// The caller's view itself is never written.
class Disk {
 public:
  explicit Disk(const ImageView& view) : view_(view) {}

  ImageView& view() { return view_; }
  void set_block_size(uint32_t bs) { bs_ = bs; }
  uint32_t block_size() const { return bs_; }
  // Whole blocks of the image (a block past the end cannot be read or written).
  uint64_t blocks() const { return bs_ ? view_.bytes() / bs_ : 0; }

  Status ReadBlock(uint64_t block, std::span<std::byte> out);
  // Writes a whole block on the overlay and records it; a write that changes nothing is not recorded.
  // Unsupported when the block lies past the image's end (e2fsck would grow the image file).
  Status WriteBlock(uint64_t block, std::span<const std::byte> bytes);
  // The ext4 super block (1024 bytes at byte 1024) inside its block.
  Status WriteSuper(std::span<const std::byte> super);

  std::vector<RecoveryResult::Write> TakeWrites() { return std::move(writes_); }
  std::vector<uint64_t> TakeWritten() { return std::move(written_); }

 private:
  ImageView view_;
  uint32_t bs_ = 0;
  std::vector<RecoveryResult::Write> writes_;
  std::vector<uint64_t> written_;  // every block WriteBlock was given, changed or not
};

// The journal as e2fsck holds it after e2fsck_get_journal and e2fsck_journal_load (journal_t).
struct Journal {
  ext2_ino_t ino = 0;
  ext2_inode inode{};  // the copy jbd2_journal_bmap maps blocks through (read once, at load)
  uint32_t block_size = 0;
  uint32_t total_len = 0;              // j_total_len: min(i_size / block size, s_maxlen)
  int format = 2;                      // j_format_version: 1 or 2 (v1 journals have no features)
  jbd2::Features features;             // zero for v1
  uint64_t first = 0, last = 0;        // j_first, j_last
  uint64_t fc_first = 0, fc_last = 0;  // j_fc_first, j_fc_last (fast_commit journals only)
  bool fc_callback = false;            // the file system has fast_commit: e2fsck installs its replay callback
  uint32_t csum_seed = 0;              // crc32c of the journal uuid (csum v2/v3)
  uint64_t sb_block = 0;               // file-system block of journal block 0
  std::vector<std::byte> sb;           // the super block's buffer: the whole block, as e2fsck holds it
  std::vector<uint64_t> map;           // journal block -> file-system block, from ext2fs_block_iterate3

  bool has_fast_commit() const { return features.incompat & jbd2::kIncompatFastCommit; }
  bool csum_v2or3() const { return features.csum_v2or3(); }
  uint64_t wrap_last() const { return has_fast_commit() ? fc_last : last; }
  uint32_t sb32(size_t off) const { return jbd2::Be32(sb.data() + off); }
  void set_sb32(size_t off, uint32_t v) { jbd2::PutBe32(sb.data() + off, v); }
};

uint32_t Crc32c(uint32_t seed, std::span<const std::byte> bytes);
uint32_t Crc32Be(uint32_t seed, std::span<const std::byte> bytes);
// The journal super block's checksum (crc32c over 1024 bytes with s_checksum zero).
uint32_t JournalSuperChecksum(std::span<const std::byte> sb);

// e2fsck_get_journal + e2fsck_journal_load on `fs` (opened over disk.view()). Unsupported on every
// path where e2fsck would repair the journal, drop it, reset its super block or give up.
Result<Journal> LoadJournal(ext2_filsys fs, Disk& disk);

// jread: journal block `offset` into `out` (block size). Returns 0 or the negative errno e2fsck's
// jread returns (-EUCLEAN past j_total_len, the bmap error); the Status is torn's own I/O failure.
Result<int> ReadJournalBlock(ext2_filsys fs, const Journal& j, Disk& disk, uint32_t offset,
                             std::vector<std::byte>& out);

// e2fsck_journal_release(ctx, journal, reset, drop = 0): s_sequence = tail_sequence, s_start = 0
// when `reset`, the checksum, and the super block's block written back.
Status ReleaseJournal(Journal& j, Disk& disk, bool reset, uint32_t tail_sequence);

// What jbd2_journal_recover found and did (struct recovery_info and the journal's counters).
struct PassInfo {
  uint32_t start_transaction = 0, end_transaction = 0;
  uint32_t failed_commit = 0;  // j_failed_commit
  uint64_t replays = 0, revokes = 0, revoke_hits = 0;
  uint32_t log_start = 0;      // s_start
  uint64_t committed_end = 0;  // the log block after the last replayed transaction's commit
};

// jbd2_journal_recover without the s_start == 0 shortcut (the caller handles it): the three passes,
// replayed blocks written to `disk` as e2fsck writes them. Returns the passes' error (0 or negative).
Result<int> RunPasses(ext2_filsys fs, Journal& j, Disk& disk, PassInfo& info);

// e2fsck's view of the open file system: libext2fs's in-memory super block and group descriptors,
// and what e2fsck would write back when it closes it.
struct OpenFs {
  Ext2Fs fs;
  bool dirty = false;  // EXT2_FLAG_DIRTY: ext2fs_close flushes descriptors and super block
  bool wrote = false;  // something was written through this file system's channel
};

// try_open_fs + the checks main() makes right after it (ext2fs_check_desc, MMP, features e2fsck
// refuses). `block_size` non-zero: the reopen after recovery, which asks for that block size.
Result<OpenFs> OpenLikeE2fsck(Disk& disk, uint32_t block_size, bool check_desc);

struct JournalCheck {
  bool has_journal = false;  // a journal was found and released (its super block written back)
  uint32_t s_start = 0;
  std::vector<uint64_t> map;  // Journal::map, its first total_len entries
  uint64_t first = 0, wrap_last = 0;
};
// e2fsck_check_ext3_journal. Unsupported where it would repair, clear or refuse the journal, and
// where the super block says no recovery but the journal holds data (e2fsck forces a replay and a
// full check then).
Result<JournalCheck> CheckJournal(OpenFs& ofs, Disk& disk);

// check_super_block and the feature checks before it, as a list of conditions: Unsupported when any
// of them would change the file system (or abort e2fsck); otherwise nothing is written.
Status CheckSuperBlock(OpenFs& ofs, Disk& disk);

// ext2fs_close: the flush of the group descriptors and the super block when dirty, or of the super
// block alone when e2fsck wrote through this file system and s_kbytes_written is non-zero.
Status CloseFs(OpenFs& ofs, Disk& disk);

}  // namespace torn::ext4::recovery
