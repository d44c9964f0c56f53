// Recover (recovery.h) on synthetic journals: an image made by mke2fs, transactions written into its
// journal by hand (recovery_test_util.h), needs_recovery set. Every test runs both Recover and the real
// `e2fsck -E journal_only -y` (clock fixed) and requires the same bytes (CompareRecovery), then checks
// that the case did what it is named after, so that a wrong rule fails twice: against e2fsck, and
// against the expectation written here from e2fsprogs' source.
#include "ext4/recovery.h"

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <optional>

#include "base/fd.h"
#include "base/temp_file.h"
#include "ext4/jbd2_format.h"
#include "ext4/recovery_check.h"
#include "ext4/recovery_test_util.h"

namespace torn::ext4 {
namespace {

using testing::MkfsOptions;
using testing::SyntheticJournal;
using testing::Tag;

constexpr uint32_t kV3 = jbd2::kIncompatRevoke | jbd2::kIncompat64Bit | jbd2::kIncompatCsumV3;
constexpr uint32_t kEfsBadCrc = 74;  // EBADMSG

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("torn-recovery-test-", "/dev/shm");
    ASSERT_TRUE(d.ok()) << d.status().message();
    dir_ = std::move(d).value();
  }

  SyntheticJournal Make(const MkfsOptions& o = {}) {
    auto j = SyntheticJournal::Make(dir_.path() + "/fs.img", o);
    EXPECT_TRUE(j.ok()) << j.status().message();
    return j.ok() ? std::move(j).value() : SyntheticJournal();
  }

  // Recover and e2fsck on the same image; any difference fails the test.
  RecoveryResult Check(const SyntheticJournal& j) {
    auto fd = OpenFile(j.path(), O_RDONLY);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return {};
    auto size = FileSize(fd->get());
    ImageView view(fd->get(), *size);
    auto r = Recover(view);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    auto e2 = RecoverWithE2fsck(j.path(), dir_.path());
    EXPECT_TRUE(e2.ok()) << e2.status().message();
    if (!e2.ok()) return *r;
    auto diffs = CompareRecovery(*r, *e2, view);
    EXPECT_TRUE(diffs.ok()) << diffs.status().message();
    if (diffs.ok()) {
      EXPECT_TRUE(diffs->empty()) << DescribeDifferences(*diffs) << "\n" << e2->output;
    }
    e2fsck_output_ = e2->output;
    return *r;
  }

  static std::optional<std::vector<std::byte>> Written(const RecoveryResult& r, uint64_t block) {
    std::optional<std::vector<std::byte>> out;
    for (const auto& w : r.writes)
      if (w.block == block) out = w.bytes;
    return out;
  }
  // The ext4 super block as Recover leaves it.
  static uint32_t SuperField(const RecoveryResult& r, size_t off, int bytes) {
    uint64_t block = 1024 / r.block_size, within = 1024 % r.block_size;
    auto b = Written(r, block);
    if (!b) return UINT32_MAX;
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | uint8_t((*b)[within + off + i]);
    return v;
  }
  static uint32_t JournalSuperField(const RecoveryResult& r, size_t off) {
    auto b = Written(r, r.journal_map.at(0));
    return b ? jbd2::Be32(b->data() + off) : UINT32_MAX;
  }

  TempDir dir_;
  std::string e2fsck_output_;
};

TEST_F(RecoveryTest, ReplaysV3TagsAndEscapedBlock_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.StartsWithMagic(0x22)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[2], j.Pattern(0x33)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kReplayed) << r.why;
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.replayed, 3u);
  EXPECT_EQ(r.start_tid, 5u);
  EXPECT_EQ(r.end_tid, 7u);
  EXPECT_EQ(Written(r, f[1]), j.StartsWithMagic(0x22));    // the escape undone
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbSequence), 8u);  // end + 1
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbStart), 0u);
  EXPECT_EQ(SuperField(r, 0x60, 4) & EXT3_FEATURE_INCOMPAT_RECOVER, 0u);
}

TEST_F(RecoveryTest, RevokeSkipsBlocksOfItsOwnAndEarlierTransactions_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.Pattern(0x12)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Revoke(6, {f[0], f[2]}).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[2], j.Pattern(0x21)}, {f[3], j.Pattern(0x22)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001).ok());
  ASSERT_TRUE(j.Descriptor(7, {{f[0], j.Pattern(0x31)}}).ok());
  ASSERT_TRUE(j.Commit(7, 1002).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.revoke_hits, 2u);  // f[0] in 5, f[2] in 6 (a record revokes its own transaction too)
  EXPECT_EQ(r.replayed, 3u);
  EXPECT_EQ(Written(r, f[0]), j.Pattern(0x31));  // a later transaction is not revoked
  EXPECT_EQ(Written(r, f[1]), j.Pattern(0x12));
  EXPECT_FALSE(Written(r, f[2]));
  EXPECT_EQ(Written(r, f[3]), j.Pattern(0x22));
}

TEST_F(RecoveryTest, V1ChecksumAcceptsAGoodCommitAndFailsABadOne_Synthetic) {
  auto j = Make({.features = "^metadata_csum"});
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(jbd2::kCompatChecksum, jbd2::kIncompatRevoke | jbd2::kIncompat64Bit, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.StartsWithMagic(0x12)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[2], j.Pattern(0x21)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001, /*bad_checksum=*/true).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.replayed, 2u);
  EXPECT_EQ(r.failed_commit, 6u);
  EXPECT_EQ(r.end_tid, 6u);
  EXPECT_FALSE(Written(r, f[2]));
  // s_errno = -EINVAL at release, then turned into ERROR_FS and cleared by the second journal check.
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbErrno), 0u);
  EXPECT_NE(SuperField(r, 0x3A, 2) & EXT2_ERROR_FS, 0u);
}

TEST_F(RecoveryTest, V2ChecksumsUse16BitTagChecksums_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, jbd2::kIncompatRevoke | jbd2::kIncompat64Bit | jbd2::kIncompatCsumV2, 1, 5).ok());
  ASSERT_TRUE(
      j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.Pattern(0x12), /*bad_checksum=*/true}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.replayed, 1u);
  EXPECT_TRUE(Written(r, f[0]));
  EXPECT_FALSE(Written(r, f[1]));
  EXPECT_EQ(r.error, -int(kEfsBadCrc));
  EXPECT_EQ(SuperField(r, 0x3A, 2) & EXT2_VALID_FS, 0u);  // a recovery error asks for a full check
}

TEST_F(RecoveryTest, NoChecksumsAnd32BitTags_Synthetic) {
  auto j = Make({.features = "^metadata_csum,^64bit"});
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, jbd2::kIncompatRevoke, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.StartsWithMagic(0x12)}}).ok());
  ASSERT_TRUE(j.Revoke(5, {f[3]}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[2], j.Pattern(0x21)}, {f[3], j.Pattern(0x22)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.replayed, 4u);
  EXPECT_EQ(Written(r, f[1]), j.StartsWithMagic(0x12));
  EXPECT_EQ(Written(r, f[3]), j.Pattern(0x22));
}

TEST_F(RecoveryTest, TransactionWrapsAtTheLogsEnd_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  uint32_t start = j.maxlen() - 2;
  ASSERT_TRUE(j.SetSuper(0, kV3, start, 5).ok());
  j.Seek(start);
  ASSERT_TRUE(
      j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.Pattern(0x12)}, {f[2], j.Pattern(0x13)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_EQ(j.position(), 4u);  // descriptor at maxlen-2, data at maxlen-1, 1, 2, commit at 3
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.replayed, 3u);
  EXPECT_EQ(r.committed_end, 4u);
  EXPECT_EQ(Written(r, f[2]), j.Pattern(0x13));
}

TEST_F(RecoveryTest, SequenceNumbersWrapAt2To32_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 0xFFFFFFFFu).ok());
  ASSERT_TRUE(j.Descriptor(0xFFFFFFFFu, {{f[0], j.Pattern(0x11)}, {f[1], j.Pattern(0x12)}}).ok());
  ASSERT_TRUE(j.Commit(0xFFFFFFFFu, 1000).ok());
  ASSERT_TRUE(j.Revoke(0, {f[0]}).ok());  // 0 comes after 0xFFFFFFFF: it revokes f[0]
  ASSERT_TRUE(j.Descriptor(0, {{f[2], j.Pattern(0x21)}}).ok());
  ASSERT_TRUE(j.Commit(0, 1001).ok());
  ASSERT_TRUE(j.Descriptor(1, {{f[3], j.Pattern(0x31)}}).ok());
  ASSERT_TRUE(j.Commit(1, 1002).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.end_tid, 2u);
  EXPECT_EQ(r.replayed, 3u);
  EXPECT_EQ(r.revoke_hits, 1u);
  EXPECT_FALSE(Written(r, f[0]));
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbSequence), 3u);
}

TEST_F(RecoveryTest, BadV3TagChecksumSkipsTheBlockAndFailsRecovery_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11), true}, {f[1], j.Pattern(0x12)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.error, -int(kEfsBadCrc));
  EXPECT_FALSE(Written(r, f[0]));
  EXPECT_EQ(Written(r, f[1]), j.Pattern(0x12));
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbSequence), 5u);  // unchanged after an error
}

TEST_F(RecoveryTest, MissingCommitEndsTheLog_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[1], j.Pattern(0x21)}}).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.end_tid, 6u);
  EXPECT_EQ(r.replayed, 1u);
  EXPECT_FALSE(Written(r, f[1]));
}

TEST_F(RecoveryTest, AsyncCommitWithBadChecksumEndsReplayWithoutFailing_Synthetic) {
  auto j = Make();
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3 | jbd2::kIncompatAsyncCommit, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[1], j.Pattern(0x21)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001, /*bad_checksum=*/true).ok());
  ASSERT_TRUE(j.Descriptor(7, {{f[2], j.Pattern(0x31)}}).ok());
  ASSERT_TRUE(j.Commit(7, 1002).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.end_tid, 6u);
  EXPECT_EQ(r.failed_commit, 0u);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.replayed, 1u);
  EXPECT_FALSE(Written(r, f[2]));
}

TEST_F(RecoveryTest, BadDescriptorChecksumIsStaleOrCorruptByCommitTime_Synthetic) {
  for (uint64_t time : {900u, 2000u}) {
    auto j = Make();
    const auto& f = j.free_blocks();
    ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
    ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
    ASSERT_TRUE(j.Commit(5, 1000).ok());
    ASSERT_TRUE(j.Descriptor(6, {{f[1], j.Pattern(0x21)}}, /*bad_tail=*/true).ok());
    ASSERT_TRUE(j.Commit(6, time).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
    RecoveryResult r = Check(j);
    if (time < 1000) {  // older than the previous commit: a stale block, the log ends quietly
      EXPECT_EQ(r.error, 0);
      EXPECT_EQ(r.replayed, 1u);
    } else {  // journal corruption found in the scan: nothing is replayed
      EXPECT_EQ(r.error, -int(kEfsBadCrc));
      EXPECT_EQ(r.replayed, 0u);
    }
    EXPECT_FALSE(Written(r, f[1]));
  }
}

// A commit whose checksum fails: a failed commit when its time is not older than the previous
// commit's (equal included), a stale block ending the log quietly when it is older.
TEST_F(RecoveryTest, BadCommitChecksumIsStaleOnlyWhenOlder_Synthetic) {
  for (uint64_t time : {999u, 1000u}) {
    auto j = Make();
    const auto& f = j.free_blocks();
    ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
    ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
    ASSERT_TRUE(j.Commit(5, 1000).ok());
    ASSERT_TRUE(j.Descriptor(6, {{f[1], j.Pattern(0x21)}}).ok());
    ASSERT_TRUE(j.Commit(6, time, /*bad_checksum=*/true).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.replayed, 1u);
    EXPECT_EQ(r.failed_commit, time < 1000 ? 0u : 6u) << "commit time " << time;
  }
}

TEST_F(RecoveryTest, NeedsRecoveryWithAnEmptyLogMovesTheSequenceOn_Synthetic) {
  auto j = Make();
  ASSERT_TRUE(j.SetSuper(0, kV3, 0, 9).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kReplayed);
  EXPECT_EQ(r.replayed, 0u);
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbSequence), 10u);
}

TEST_F(RecoveryTest, CleanJournalWritesNothing_Synthetic) {
  auto j = Make();
  ASSERT_TRUE(j.SetSuper(0, kV3, 0, 9).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kClean);
  EXPECT_TRUE(r.writes.empty());
}

TEST_F(RecoveryTest, JournalErrnoWithoutRecoveryMarksTheFileSystem_Synthetic) {
  auto j = Make();
  ASSERT_TRUE(j.SetSuper(0, kV3, 0, 9).ok());
  ASSERT_TRUE(j.SetSuperField(jbd2::kSbErrno, uint32_t(-5)).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kClean);
  EXPECT_EQ(JournalSuperField(r, jbd2::kSbErrno), 0u);
  EXPECT_NE(SuperField(r, 0x3A, 2) & EXT2_ERROR_FS, 0u);
}

TEST_F(RecoveryTest, FourKiBBlocks_Synthetic) {
  auto j = Make({.block_size = 4096, .bytes = 16 << 20});
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.StartsWithMagic(0x12)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.block_size, 4096u);
  EXPECT_EQ(r.replayed, 2u);
}

TEST_F(RecoveryTest, NoJournal_Synthetic) {
  auto j = Make({.features = "^has_journal"});
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kNoJournal);
  EXPECT_TRUE(r.writes.empty());
}

// With meta_bg, e2fsck's flush writes each descriptor block to its copies in the meta group's second
// and last groups too (ext2fs_flush2 writes new_desc_blk even with EXT2_FLAG_MASTER_SB_ONLY): a copy
// the kernel left stale is rewritten.
TEST_F(RecoveryTest, MetaBgFlushRewritesDescriptorCopies_Synthetic) {
  auto j = Make({.bytes = 32 << 20, .features = "meta_bg,^resize_inode"});
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  // Group 1's copy of the first descriptor block, made stale.
  ext2_filsys fs = nullptr;
  ASSERT_EQ(ext2fs_open(j.path().c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs), 0);
  blk64_t super_blk = 0, old_desc = 0, new_desc = 0;
  ext2fs_super_and_bgd_loc2(fs, 1, &super_blk, &old_desc, &new_desc, nullptr);
  ext2fs_close_free(&fs);
  ASSERT_NE(new_desc, 0u);
  auto copy = j.ReadBlock(new_desc);
  ASSERT_TRUE(copy.ok());
  (*copy)[12] ^= std::byte{0x01};  // group 0's free block count in the copy
  {
    auto fd = OpenFile(j.path(), O_RDWR);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(PwriteFull(fd->get(), *copy, new_desc * j.block_size()).ok());
  }
  RecoveryResult r = Check(j);
  EXPECT_EQ(r.outcome, RecoveryOutcome::kReplayed) << r.why;
  EXPECT_TRUE(Written(r, new_desc)) << "the stale copy at block " << new_desc << " is not rewritten";
}

// Cases torn does not emulate: they must say so rather than guess.
TEST_F(RecoveryTest, UnsupportedCasesSayWhy_Synthetic) {
  {  // the journal holds data but the super block asks for no recovery
    auto j = Make();
    ASSERT_TRUE(j.SetSuper(0, kV3, 1, 5).ok());
    ASSERT_TRUE(j.Descriptor(5, {{j.free_blocks()[0], j.Pattern(0x11)}}).ok());
    ASSERT_TRUE(j.Commit(5, 1000).ok());
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kUnsupported);
    EXPECT_NE(r.why.find("s_start"), std::string::npos) << r.why;
  }
  {  // orphan inodes: check_super_block releases them
    auto j = Make();
    ASSERT_TRUE(j.SetSuper(0, kV3, 0, 5).ok());
    ASSERT_TRUE(j.SetExt4Field32(0xE8, 12).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kUnsupported);
    EXPECT_NE(r.why.find("orphan"), std::string::npos) << r.why;
  }
  {  // an ext4 super block with a bad checksum: e2fsck opens a backup super block instead
    auto j = Make();
    ASSERT_TRUE(j.SetSuper(0, kV3, 0, 5).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
    auto fd = OpenFile(j.path(), O_RDWR);
    ASSERT_TRUE(fd.ok());
    std::byte b[1];
    ASSERT_TRUE(PreadFull(fd->get(), b, 1024 + 0x3FC).ok());
    b[0] ^= std::byte{1};
    ASSERT_TRUE(PwriteFull(fd->get(), b, 1024 + 0x3FC).ok());
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kUnsupported);
    EXPECT_NE(r.why.find("backup super blocks"), std::string::npos) << r.why;
  }
  {  // a journal super block with a bad checksum: e2fsck resets the journal
    auto j = Make();
    ASSERT_TRUE(j.SetSuper(0, kV3, 0, 5).ok());
    auto sb = j.ReadJournalBlock(0);
    ASSERT_TRUE(sb.ok());
    (*sb)[jbd2::kSbChecksum] ^= std::byte{1};
    ASSERT_TRUE(j.WriteJournalBlock(0, *sb).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kUnsupported);
    EXPECT_NE(r.why.find("s_checksum"), std::string::npos) << r.why;
  }
}

// Fast commit: e2fsprogs 1.47.0 wraps the main log at s_maxlen, not at the fast-commit area, and
// reads the first fast-commit block after the scan.
TEST_F(RecoveryTest, FastCommitArea_Synthetic) {
  auto setup = [&](SyntheticJournal& j, int head_tid) {
    const auto& f = j.free_blocks();
    uint32_t incompat = kV3 | jbd2::kIncompatFastCommit;
    ASSERT_TRUE(j.SetSuper(0, incompat, 1, 5).ok());
    ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}}).ok());
    ASSERT_TRUE(j.Commit(5, 1000).ok());
    auto sb = j.ReadJournalBlock(0);
    ASSERT_TRUE(sb.ok());
    uint32_t fc = jbd2::Be32(sb->data() + jbd2::kSbNumFcBlocks);
    uint32_t fc_first = j.maxlen() - (fc ? fc : jbd2::kDefaultFastCommitBlocks) + 1;
    std::vector<std::byte> b(j.block_size());
    if (head_tid >= 0) {
      b[0] = std::byte(jbd2::kFcTagHead), b[2] = std::byte(8);  // tag, length (little-endian)
      b[8] = std::byte(head_tid);                               // fc_features 0, fc_tid
    }
    ASSERT_TRUE(j.WriteJournalBlock(fc_first, b).ok());
    ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  };
  {  // no head tag: nothing more to do
    auto j = Make({.features = "fast_commit"});
    setup(j, -1);
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kReplayed);
    EXPECT_EQ(r.replayed, 1u);
    EXPECT_EQ(r.log_end, j.maxlen());  // 1.47.0's wrap point with fast_commit
  }
  {  // a head tag of another transaction: e2fsck's scan fails with -EINVAL, nothing is replayed
    auto j = Make({.features = "fast_commit"});
    setup(j, 3);
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.error, -EINVAL);
    EXPECT_EQ(r.replayed, 0u);
  }
  {  // a head tag of the transaction after the log: a fast commit to replay, not emulated
    auto j = Make({.features = "fast_commit"});
    setup(j, 6);
    RecoveryResult r = Check(j);
    EXPECT_EQ(r.outcome, RecoveryOutcome::kUnsupported);
    EXPECT_NE(r.why.find("fast commit"), std::string::npos) << r.why;
  }
}

// The reader test of STYLE.md: the log cut after every block, and single bytes of every log block
// edited; each image against e2fsck. Recover may call an edited image unsupported, never differ.
class RecoveryEditsTest : public RecoveryTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RecoveryEditsTest, LogCutAndSingleByteEdits_Synthetic) {
  bool v3 = std::string(GetParam()) == "v3";
  auto j = Make(v3 ? MkfsOptions{} : MkfsOptions{.features = "^metadata_csum,^64bit"});
  const auto& f = j.free_blocks();
  ASSERT_TRUE(j.SetSuper(0, v3 ? kV3 : jbd2::kIncompatRevoke, 1, 5).ok());
  ASSERT_TRUE(j.Descriptor(5, {{f[0], j.Pattern(0x11)}, {f[1], j.StartsWithMagic(0x12)}}).ok());
  ASSERT_TRUE(j.Revoke(5, {f[3]}).ok());
  ASSERT_TRUE(j.Commit(5, 1000).ok());
  ASSERT_TRUE(j.Descriptor(6, {{f[2], j.Pattern(0x21)}, {f[3], j.Pattern(0x22)}}).ok());
  ASSERT_TRUE(j.Commit(6, 1001).ok());
  ASSERT_TRUE(j.SetNeedsRecovery(true).ok());
  const uint32_t end = j.position();
  std::vector<std::vector<std::byte>> log;
  for (uint32_t n = 1; n < end; ++n) log.push_back(*j.ReadJournalBlock(n));
  const std::vector<std::byte> zero(j.block_size());
  for (uint32_t cut = 1; cut < end; ++cut) {  // blocks [cut, end) never written
    for (uint32_t n = cut; n < end; ++n) ASSERT_TRUE(j.WriteJournalBlock(n, zero).ok());
    SCOPED_TRACE("log cut at block " + std::to_string(cut));
    Check(j);
    for (uint32_t n = cut; n < end; ++n) ASSERT_TRUE(j.WriteJournalBlock(n, log[n - 1]).ok());
  }
  for (uint32_t n = 1; n < end; ++n) {
    for (uint32_t at : {0u, 3u, 4u, 7u, 8u, 11u, 12u, 13u, 15u, 17u, 19u, 23u, 27u, 28u, 31u, 48u, 55u,
                        j.block_size() - 1}) {
      auto edited = log[n - 1];
      edited[at] ^= std::byte{0x01};
      ASSERT_TRUE(j.WriteJournalBlock(n, edited).ok());
      SCOPED_TRACE("journal block " + std::to_string(n) + " byte " + std::to_string(at));
      Check(j);
    }
    ASSERT_TRUE(j.WriteJournalBlock(n, log[n - 1]).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, RecoveryEditsTest, ::testing::Values("v3", "none"));

}  // namespace
}  // namespace torn::ext4
