// Recover: the steps of `e2fsck -E journal_only -y` (e2fsprogs 1.47.0, e2fsck/unix.c main()) in their
// order, over a Disk (recovery_internal.h) that keeps what each step writes:
//
//   round 1   open the file system (try_open_fs, ext2fs_check_desc)
//             e2fsck_check_ext3_journal                  the journal super block is written back
//             needs_recovery set: e2fsck_run_ext3_journal
//               recover_ext3_journal: load the journal again, jbd2_journal_recover (the passes;
//                 with s_start == 0 none), j_failed_commit -> s_errno = -EINVAL (stored in host order,
//                 as e2fsck does), e2fsck_journal_release(reset): s_sequence (end + 1, or unchanged
//                 after an error), s_start = 0, checksum
//               reopen; e2fsck_clear_recover (needs_recovery cleared, VALID cleared after an error)
//               e2fsck_check_ext3_journal                s_errno -> ERROR_FS, s_errno = 0
//               close: the group descriptors and the super block are flushed; restart
//   round 2   open again, e2fsck_check_ext3_journal, check_super_block (recovery_fsck.cc: anything it
//             would change is unsupported), check_if_skip (journal_only): close.
// Without needs_recovery, round 1 goes straight on to check_super_block and close.
#include "ext4/recovery.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "ext4/recovery_internal.h"

namespace torn::ext4 {
namespace {

using namespace recovery;

bool NeedsRecovery(const OpenFs& o) { return ext2fs_has_feature_journal_needs_recovery(o.fs->super); }

// recover_ext3_journal on round 1's file system; fills the result's journal fields.
Result<int> RecoverJournal(OpenFs& ofs, Disk& disk, RecoveryResult& r) {
  TORN_ASSIGN_OR_RETURN(Journal j, LoadJournal(ofs.fs.get(), disk));
  r.journal_map.assign(j.map.begin(), j.map.begin() + std::min<size_t>(j.map.size(), j.total_len));
  r.log_first = uint32_t(j.first);
  r.log_end = uint32_t(j.wrap_last());
  const uint32_t sequence = j.sb32(jbd2::kSbSequence);
  PassInfo info;
  info.log_start = j.sb32(jbd2::kSbStart);
  info.committed_end = info.log_start;
  int err = 0;
  if (info.log_start == 0) {
    info.start_transaction = info.end_transaction = sequence;  // jbd2_journal_recover's shortcut
  } else {
    TORN_ASSIGN_OR_RETURN(err, RunPasses(ofs.fs.get(), j, disk, info));
  }
  r.error = err;
  r.start_tid = info.start_transaction;
  r.end_tid = info.end_transaction;
  r.failed_commit = info.failed_commit;
  r.replayed = info.replays;
  r.revoke_hits = info.revoke_hits;
  r.log_start = info.log_start;
  r.committed_end = uint32_t(info.committed_end);
  ofs.wrote = true;
  if (err) {
    // The tail sequence is still the one loaded: s_sequence does not move.
    TORN_RETURN_IF_ERROR(ReleaseJournal(j, disk, true, sequence));
    return err;
  }
  if (info.failed_commit) {
    const int32_t einval = -EINVAL;  // journal->j_superblock->s_errno = -EINVAL: a host-order store
    std::memcpy(j.sb.data() + jbd2::kSbErrno, &einval, 4);
  }
  TORN_RETURN_IF_ERROR(ReleaseJournal(j, disk, true, info.end_transaction + 1));
  return 0;
}

Status Emulate(Disk& disk, RecoveryResult& r) {
  TORN_ASSIGN_OR_RETURN(OpenFs first, OpenLikeE2fsck(disk, 0, true));
  r.block_size = first.fs->blocksize;
  r.fast_commit = ext2fs_has_feature_fast_commit(first.fs->super);
  TORN_ASSIGN_OR_RETURN(JournalCheck check, CheckJournal(first, disk));
  r.journal_map = std::move(check.map);
  r.log_first = uint32_t(check.first);
  r.log_end = uint32_t(check.wrap_last);
  if (!NeedsRecovery(first)) {
    r.outcome = check.has_journal ? RecoveryOutcome::kClean : RecoveryOutcome::kNoJournal;
    TORN_RETURN_IF_ERROR(CheckSuperBlock(first, disk));
    return CloseFs(first, disk);
  }
  if (first.dirty) return Internal("the file system is dirty before journal recovery");
  r.outcome = RecoveryOutcome::kReplayed;
  TORN_ASSIGN_OR_RETURN(int err, RecoverJournal(first, disk, r));

  // e2fsck_run_ext3_journal: the file system is freed without a flush and opened again.
  TORN_ASSIGN_OR_RETURN(OpenFs again, OpenLikeE2fsck(disk, r.block_size, false));
  ext2fs_clear_feature_journal_needs_recovery(again.fs->super);
  if (err) again.fs->super->s_state &= ~EXT2_VALID_FS;
  again.dirty = true;
  TORN_RETURN_IF_ERROR(CheckJournal(again, disk).status());
  TORN_RETURN_IF_ERROR(CloseFs(again, disk));

  // The restart.
  TORN_ASSIGN_OR_RETURN(OpenFs last, OpenLikeE2fsck(disk, 0, true));
  TORN_RETURN_IF_ERROR(CheckJournal(last, disk).status());
  if (NeedsRecovery(last)) return Unsupported("needs_recovery is still set after recovery: e2fsck gives up");
  TORN_RETURN_IF_ERROR(CheckSuperBlock(last, disk));
  return CloseFs(last, disk);
}

}  // namespace

Result<RecoveryResult> Recover(ImageView& view) {
  RecoveryResult r;
  Disk disk(view);
  Status st = Emulate(disk, r);
  if (IsUnsupported(st)) {
    r.outcome = RecoveryOutcome::kUnsupported;
    r.why = st.message();
    return r;
  }
  TORN_RETURN_IF_ERROR(st);
  r.writes = disk.TakeWrites();
  r.written = disk.TakeWritten();
  std::sort(r.written.begin(), r.written.end());
  r.written.erase(std::unique(r.written.begin(), r.written.end()), r.written.end());
  return r;
}

void ApplyRecovery(const RecoveryResult& result, ImageView& view) {
  for (const auto& w : result.writes) view.Put(w.block * result.block_size, w.bytes);
}

std::string_view OutcomeName(RecoveryOutcome o) {
  switch (o) {
    case RecoveryOutcome::kNoJournal:
      return "no-journal";
    case RecoveryOutcome::kClean:
      return "clean";
    case RecoveryOutcome::kReplayed:
      return "replayed";
    case RecoveryOutcome::kUnsupported:
      return "unsupported";
  }
  return "?";
}

}  // namespace torn::ext4
