// Finding, loading, reading and releasing the journal as e2fsck does (e2fsprogs 1.47.0,
// e2fsck/journal.c: e2fsck_get_journal, e2fsck_journal_load, jbd2_journal_bmap, e2fsck_journal_release;
// e2fsck/recovery.c: jread). Only the internal journal; every branch where e2fsck would repair or
// drop the journal is reported as Unsupported, naming the field.
#include <fmt/core.h>

#include <cstring>

#include "ext4/recovery_internal.h"

namespace torn::ext4::recovery {

// --- the working image ----------------------------------------------------------------------------

Status Disk::ReadBlock(uint64_t block, std::span<std::byte> out) {
  if (bs_ == 0 || block >= blocks())
    return Unsupported(fmt::format("block {} lies past the image's end ({} blocks)", block, blocks()));
  return view_.Read(block * bs_, out);
}

Status Disk::WriteBlock(uint64_t block, std::span<const std::byte> bytes) {
  if (bs_ == 0 || block >= blocks() || bytes.size() != bs_)
    return Unsupported(
        fmt::format("e2fsck would write block {}, past the image's end ({} blocks)", block, blocks()));
  // Whether the write changes anything decides only whether it is listed, not the recovered bytes:
  // that look is not recorded. Every block written is remembered (RecoveryResult::written).
  written_.push_back(block);
  std::vector<std::byte> now(bs_);
  TORN_RETURN_IF_ERROR(view_.ReadUnrecorded(block * bs_, now));
  if (std::memcmp(now.data(), bytes.data(), bs_) == 0) return Status::Ok();
  view_.Put(block * bs_, bytes);
  writes_.push_back({block, std::vector<std::byte>(bytes.begin(), bytes.end())});
  return Status::Ok();
}

Status Disk::WriteSuper(std::span<const std::byte> super) {
  constexpr uint64_t kOffset = 1024;
  uint64_t block = kOffset / bs_, within = kOffset % bs_;
  std::vector<std::byte> buf(bs_);
  TORN_RETURN_IF_ERROR(ReadBlock(block, buf));
  std::memcpy(buf.data() + within, super.data(), 1024);
  return WriteBlock(block, buf);
}

// --- checksums ------------------------------------------------------------------------------------

uint32_t Crc32c(uint32_t seed, std::span<const std::byte> bytes) {
  return ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

uint32_t Crc32Be(uint32_t seed, std::span<const std::byte> bytes) {
  return ext2fs_crc32_be(seed, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

uint32_t JournalSuperChecksum(std::span<const std::byte> sb) {
  std::byte copy[jbd2::kSuperBytes];
  std::memcpy(copy, sb.data(), jbd2::kSuperBytes);
  std::memset(copy + jbd2::kSbChecksum, 0, 4);
  return Crc32c(~0u, copy);
}

// --- e2fsck_get_journal ---------------------------------------------------------------------------

namespace {

struct IterateState {
  ext2_filsys fs = nullptr;
  int64_t last_block = -1;  // pb.last_block
  std::vector<uint64_t>* map = nullptr;
  uint64_t want = 0;
};

// process_journal_block: the walk stops at a hole or at a block outside the file system.
int ProcessJournalBlock(ext2_filsys fs, blk64_t* block_nr, e2_blkcnt_t blockcnt, blk64_t, int, void* priv) {
  auto* st = static_cast<IterateState*>(priv);
  blk64_t blk = *block_nr;
  if (!blk || blk < fs->super->s_first_data_block || blk >= ext2fs_blocks_count(fs->super))
    return BLOCK_ABORT;
  if (blockcnt >= 0) {
    st->last_block = blockcnt;
    if (uint64_t(blockcnt) < st->want) (*st->map)[blockcnt] = blk;
  }
  return 0;
}

bool UuidIsNull(const uint8_t* u) {
  for (int i = 0; i < 16; ++i)
    if (u[i]) return false;
  return true;
}

}  // namespace

Result<Journal> LoadJournal(ext2_filsys fs, Disk& disk) {
  ext2_super_block* sb = fs->super;
  Journal j;
  j.block_size = fs->blocksize;
  if (!UuidIsNull(sb->s_journal_uuid)) return Unsupported("the journal is external (s_journal_uuid is set)");
  // The product is a 32-bit one in e2fsck too (dgrp_t times __u32).
  uint32_t max_ino = uint32_t(fs->group_desc_count * sb->s_inodes_per_group);
  if (!sb->s_journal_inum || sb->s_journal_inum > max_ino)
    return Unsupported(fmt::format("s_journal_inum {} is not a valid inode: e2fsck would delete the journal",
                                   sb->s_journal_inum));
  j.ino = sb->s_journal_inum;
  if (errcode_t err = ext2fs_read_inode(fs, j.ino, &j.inode))
    return Unsupported(
        fmt::format("journal inode {} cannot be read ({}): e2fsck would rebuild it from the "
                    "super block's backup",
                    j.ino, Ext2Error(err)));
  if (!j.inode.i_links_count || !LINUX_S_ISREG(j.inode.i_mode) || (j.inode.i_flags & EXT4_ENCRYPT_FL))
    return Unsupported(
        fmt::format("journal inode {} is not a regular file in use: e2fsck would rebuild it "
                    "from the super block's backup",
                    j.ino));
  uint64_t size = EXT2_I_SIZE(&j.inode);
  if (size / j.block_size < jbd2::kMinJournalBlocks)
    return Unsupported(
        fmt::format("journal inode {}: i_size {} is under {} blocks", j.ino, size, jbd2::kMinJournalBlocks));
  // The walk's map is kept for RecoveryResult::journal_map; reads map blocks with ext2fs_bmap2 as
  // jread does. Capped: a journal is at most 2^32 blocks, and the map is only as large as i_size says
  // and the image can hold.
  uint64_t want = std::min<uint64_t>(size / j.block_size, disk.view().bytes() / j.block_size);
  j.map.assign(want, 0);
  IterateState st{fs, -1, &j.map, want};
  errcode_t walk = ext2fs_block_iterate3(fs, j.ino, BLOCK_FLAG_HOLE, nullptr, ProcessJournalBlock, &st);
  // e2fsck compares with (int) EXT2_I_SIZE: the cast is kept.
  if ((st.last_block + 1) * int64_t(j.block_size) < int64_t(int32_t(uint32_t(size))))
    return Unsupported(
        fmt::format("journal inode {} maps only {} of its blocks: e2fsck would rebuild it from "
                    "the super block's backup",
                    j.ino, st.last_block + 1));
  j.total_len = uint32_t(size / j.block_size);
  blk64_t start = 0;
  if (errcode_t err = ext2fs_bmap2(fs, j.ino, &j.inode, nullptr, 0, 0, nullptr, &start))
    return Unsupported(
        fmt::format("journal inode {}: block 0 cannot be mapped ({}): e2fsck stops", j.ino, Ext2Error(err)));
  if (walk)
    return Unsupported(fmt::format("journal inode {}: its block map cannot be walked ({}): e2fsck stops",
                                   j.ino, Ext2Error(walk)));
  j.sb_block = start;
  j.fc_callback = ext2fs_has_feature_fast_commit(sb);

  // e2fsck_journal_load.
  j.sb.resize(j.block_size);
  TORN_RETURN_IF_ERROR(disk.ReadBlock(j.sb_block, j.sb));
  if (j.sb32(0) != jbd2::kMagic)
    return Unsupported(fmt::format(
        "journal super block (block {}): bad magic: e2fsck would delete the journal", j.sb_block));
  uint32_t compat = j.sb32(jbd2::kSbFeatureCompat), incompat = j.sb32(jbd2::kSbFeatureIncompat),
           ro_compat = j.sb32(jbd2::kSbFeatureRoCompat), nr_users = j.sb32(jbd2::kSbNrUsers);
  switch (j.sb32(4)) {
    case jbd2::kSuperV1:
      j.format = 1;
      if (compat || incompat || ro_compat || nr_users)
        return Unsupported(
            "journal super block v1 with v2 fields set: e2fsck would clear them and check "
            "the whole file system");
      break;
    case jbd2::kSuperV2:
      j.format = 2;
      if (nr_users > 1)
        return Unsupported(
            fmt::format("journal super block: s_nr_users {} (shared journal): e2fsck refuses it", nr_users));
      j.features = {compat, incompat, ro_compat};
      break;
    default:
      return Unsupported(
          fmt::format("journal super block: block type {}: e2fsck would reset the journal", j.sb32(4)));
  }
  if (incompat & ~jbd2::kKnownIncompat)
    return Unsupported(fmt::format("journal super block: unknown incompat features {:#x}", incompat));
  if (ro_compat)
    return Unsupported(fmt::format("journal super block: unknown ro_compat features {:#x}", ro_compat));
  if ((incompat & jbd2::kIncompatCsumV2) && (incompat & jbd2::kIncompatCsumV3))
    return Unsupported("journal super block: both csum v2 and v3: e2fsck would reset the journal");
  if (j.csum_v2or3() && (compat & jbd2::kCompatChecksum))
    return Unsupported(
        "journal super block: csum v2/v3 with the v1 checksum: e2fsck would reset the journal");
  if (j.csum_v2or3()) {
    uint8_t type = uint8_t(j.sb[jbd2::kSbChecksumType]);
    if (type != jbd2::kChecksumCrc32c)
      return Unsupported(
          fmt::format("journal super block: s_checksum_type {}: e2fsck would reset the journal", type));
    uint32_t have = j.sb32(jbd2::kSbChecksum), want_csum = JournalSuperChecksum(j.sb);
    if (have != want_csum)
      return Unsupported(
          fmt::format("journal super block: s_checksum {:#010x}, computed {:#010x}: e2fsck would "
                      "reset the journal",
                      have, want_csum));
    j.csum_seed = Crc32c(~0u, std::span(j.sb).subspan(jbd2::kSbUuid, 16));
  }
  if (j.sb32(jbd2::kSbBlocksize) != j.block_size)
    return Unsupported(
        fmt::format("journal super block: s_blocksize {} is not the file system's {}: e2fsck "
                    "would reset the journal",
                    j.sb32(jbd2::kSbBlocksize), j.block_size));
  uint32_t maxlen = j.sb32(jbd2::kSbMaxlen);
  if (maxlen < j.total_len) {
    j.total_len = maxlen;
  } else if (maxlen > j.total_len) {
    return Unsupported(
        fmt::format("journal super block: s_maxlen {} exceeds the inode's {} blocks: e2fsck "
                    "would reset the journal",
                    maxlen, j.total_len));
  }
  j.first = j.sb32(jbd2::kSbFirst);
  if (j.has_fast_commit()) {
    // jbd2_journal_get_num_fc_blks returns an int; the check is 32-bit unsigned, j_last `unsigned long`.
    int32_t fc = int32_t(j.sb32(jbd2::kSbNumFcBlocks));
    if (fc == 0) fc = int32_t(jbd2::kDefaultFastCommitBlocks);
    if (uint32_t(maxlen - uint32_t(fc)) < jbd2::kMinJournalBlocks)
      return Unsupported(
          fmt::format("journal super block: {} fast-commit blocks leave too short a log: e2fsck "
                      "would reset the journal",
                      fc));
    j.fc_last = maxlen;
    j.last = j.fc_last - uint64_t(int64_t(fc));
    j.fc_first = j.last + 1;
  } else {
    j.last = maxlen;
  }
  return j;
}

Result<int> ReadJournalBlock(ext2_filsys fs, const Journal& j, Disk& disk, uint32_t offset,
                             std::vector<std::byte>& out) {
  if (offset >= j.total_len) return -kEfsCorrupted;
  blk64_t phys = 0;
  // The inode copy read at load: e2fsck maps through it (journal->j_inode->i_ext2), so a replayed
  // inode table block does not change the mapping; index blocks are read from the image as it is now.
  ext2_inode inode = j.inode;
  if (errcode_t err = ext2fs_bmap2(fs, j.ino, &inode, nullptr, 0, offset, nullptr, &phys)) return -int(err);
  out.resize(j.block_size);
  Status st = disk.ReadBlock(phys, out);
  if (IsUnsupported(st))
    return Unsupported(fmt::format("journal block {} maps to block {}, past the image's end", offset, phys));
  TORN_RETURN_IF_ERROR(st);
  return 0;
}

Status ReleaseJournal(Journal& j, Disk& disk, bool reset, uint32_t tail_sequence) {
  j.set_sb32(jbd2::kSbSequence, tail_sequence);
  if (reset) j.set_sb32(jbd2::kSbStart, 0);
  if (j.csum_v2or3()) j.set_sb32(jbd2::kSbChecksum, JournalSuperChecksum(j.sb));
  return disk.WriteBlock(j.sb_block, j.sb);
}

}  // namespace torn::ext4::recovery
