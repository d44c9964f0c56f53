// What `e2fsck -E journal_only -y` does around the journal passes (e2fsprogs 1.47.0): opening the file
// system (e2fsck/unix.c main: try_open_fs, ext2fs_check_desc, the feature checks), checking the
// journal's flags (e2fsck/journal.c e2fsck_check_ext3_journal), check_super_block (e2fsck/super.c) and
// closing (lib/ext2fs/closefs.c ext2fs_close2, ext2fs_flush2).
//
// check_super_block can rewrite a lot (orphan inodes, descriptors, quota inodes, ...); torn emulates
// none of its repairs. Each condition under which it would change the file system, or make e2fsck
// stop, is tested here in its order and reported as Unsupported. What remains is exactly the case
// where check_super_block writes nothing, and check_if_skip (journal_only) closes the file system.
#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "ext4/recovery_internal.h"

namespace torn::ext4::recovery {
namespace {

bool UuidIsNull(const uint8_t* u) {
  for (int i = 0; i < 16; ++i)
    if (u[i]) return false;
  return true;
}

std::span<const std::byte> SuperBytes(const ext2_super_block* sb) {
  return {reinterpret_cast<const std::byte*>(sb), sizeof(*sb)};
}

// check_super_value: MIN_CHECK / MAX_CHECK / LOG2_CHECK.
Status Value(const char* name, uint64_t v, bool check_min, uint64_t lo, bool check_max, uint64_t hi,
             bool log2 = false) {
  if ((check_min && v < lo) || (check_max && v > hi) || (log2 && (v & (v - 1)) != 0))
    return Unsupported(fmt::format("ext4 super block: {} = {} is out of range: e2fsck aborts", name, v));
  return Status::Ok();
}

}  // namespace

Result<OpenFs> OpenLikeE2fsck(Disk& disk, uint32_t block_size, bool check_desc) {
  // e2fsck opens with EXT2_FLAG_SKIP_MMP | EXT2_FLAG_64BITS (| RW, which the view refuses: its one
  // effect on opening, refusing unknown ro_compat features, is checked below).
  auto fs = OpenExt2(disk.view(), EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP);
  if (!fs.ok()) return Unsupported(fs.status().message() + ": e2fsck would try the backup super blocks");
  OpenFs o{std::move(fs).value()};
  ext2_filsys f = o.fs.get();
  if (block_size && f->blocksize != block_size)
    return Unsupported(fmt::format(
        "recovery changed the block size to {}: e2fsck cannot reopen the file system", f->blocksize));
  if (f->super->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP)
    return Unsupported(fmt::format("ext4 super block: unknown ro_compat features {:#x}",
                                   f->super->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP));
  if (ext2fs_has_feature_mmp(f->super))
    return Unsupported("the file system has MMP: e2fsck updates its block");
  // The device's size is checked against the block count only in check_super_block (an abort); the
  // journal walk before it would read or write past the image's end. Both are refused here.
  if (ext2fs_blocks_count(f->super) > disk.view().bytes() / f->blocksize)
    return Unsupported(fmt::format("ext4 super block: {} blocks, more than the image holds: e2fsck aborts",
                                   ext2fs_blocks_count(f->super)));
  disk.set_block_size(f->blocksize);
  if (check_desc) {
    if (errcode_t err = ext2fs_check_desc(f))
      return Unsupported(
          fmt::format("group descriptors: {}: e2fsck would try the backup super blocks", Ext2Error(err)));
  }
  return o;
}

Result<JournalCheck> CheckJournal(OpenFs& ofs, Disk& disk) {
  ext2_filsys fs = ofs.fs.get();
  ext2_super_block* sb = fs->super;
  bool recover = ext2fs_has_feature_journal_needs_recovery(sb);
  JournalCheck out;
  if (!ext2fs_has_feature_journal(sb) && !recover && sb->s_journal_inum == 0 && sb->s_journal_dev == 0 &&
      UuidIsNull(sb->s_journal_uuid))
    return out;
  TORN_ASSIGN_OR_RETURN(Journal j, LoadJournal(fs, disk));
  if (!ext2fs_has_feature_journal(sb))
    return Unsupported(
        "ext4 super block: has_journal is clear but a journal is present: e2fsck would clear it");
  out.s_start = j.sb32(jbd2::kSbStart);
  out.map.assign(j.map.begin(), j.map.begin() + std::min<size_t>(j.map.size(), j.total_len));
  out.first = j.first;
  out.wrap_last = j.wrap_last();
  if (!recover && out.s_start != 0)
    return Unsupported(
        fmt::format("needs_recovery is clear but the journal is not empty (s_start {}): e2fsck "
                    "replays it and checks the whole file system",
                    out.s_start));
  if (!recover && j.sb32(jbd2::kSbErrno)) {
    sb->s_state |= EXT2_ERROR_FS;
    ofs.dirty = true;
    j.set_sb32(jbd2::kSbErrno, 0);
  }
  TORN_RETURN_IF_ERROR(ReleaseJournal(j, disk, false, j.sb32(jbd2::kSbSequence)));
  ofs.wrote = true;
  out.has_journal = true;
  return out;
}

Status CheckSuperBlock(OpenFs& ofs, Disk& disk) {
  ext2_filsys fs = ofs.fs.get();
  ext2_super_block* sb = fs->super;
  // main(), before check_super_block: features e2fsck does not know stop it.
  if ((sb->s_feature_compat & ~EXT2_LIB_FEATURE_COMPAT_SUPP) ||
      (sb->s_feature_incompat & ~EXT2_LIB_FEATURE_INCOMPAT_SUPP) ||
      (sb->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP))
    return Unsupported("ext4 super block: features e2fsck does not support: it stops");
  if (ext2fs_has_feature_casefold(sb) && !fs->encoding)
    return Unsupported("ext4 super block: unknown casefold encoding: e2fsck stops");

  // The super block's constants.
  uint32_t bs = EXT2_BLOCK_SIZE(sb);
  uint64_t inodes_per_block = EXT2_INODES_PER_BLOCK(sb);
  uint64_t bpg = sb->s_blocks_per_group;
  uint32_t ipg_max = uint32_t(inodes_per_block * (bpg - 4));
  if (ipg_max > EXT2_MAX_INODES_PER_GROUP(sb)) ipg_max = EXT2_MAX_INODES_PER_GROUP(sb);
  uint32_t cpg_max = 8 * bs;
  if (cpg_max > EXT2_MAX_CLUSTERS_PER_GROUP(sb)) cpg_max = EXT2_MAX_CLUSTERS_PER_GROUP(sb);
  uint32_t bpg_max = 8 * bs * EXT2FS_CLUSTER_RATIO(fs);
  if (bpg_max > EXT2_MAX_BLOCKS_PER_GROUP(sb)) bpg_max = EXT2_MAX_BLOCKS_PER_GROUP(sb);
  uint64_t blks_max = (1ULL << 32) * EXT2_MAX_BLOCKS_PER_GROUP(sb);
  uint64_t cap = ext2fs_has_feature_64bit(sb) ? (1ULL << 48) - 1 : (1ULL << 32) - 1;
  if (blks_max > cap) blks_max = cap;
  uint64_t blocks = ext2fs_blocks_count(sb);
  TORN_RETURN_IF_ERROR(Value("s_inodes_count", sb->s_inodes_count, true, 1, false, 0));
  TORN_RETURN_IF_ERROR(Value("s_blocks_count", blocks, true, 1, true, blks_max));
  TORN_RETURN_IF_ERROR(Value("s_first_data_block", sb->s_first_data_block, false, 0, true, blocks));
  TORN_RETURN_IF_ERROR(Value("s_log_block_size", sb->s_log_block_size, true, 0, true,
                             EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE));
  TORN_RETURN_IF_ERROR(Value("s_log_cluster_size", sb->s_log_cluster_size, true, sb->s_log_block_size, true,
                             EXT2_MAX_CLUSTER_LOG_SIZE - EXT2_MIN_CLUSTER_LOG_SIZE));
  TORN_RETURN_IF_ERROR(Value("s_clusters_per_group", sb->s_clusters_per_group, true, 8, true, cpg_max));
  TORN_RETURN_IF_ERROR(Value("s_blocks_per_group", sb->s_blocks_per_group, true, 8, true, bpg_max));
  TORN_RETURN_IF_ERROR(
      Value("s_inodes_per_group", sb->s_inodes_per_group, true, inodes_per_block, true, ipg_max));
  TORN_RETURN_IF_ERROR(Value("s_r_blocks_count", ext2fs_r_blocks_count(sb), false, 0, true, blocks / 2));
  TORN_RETURN_IF_ERROR(Value("s_reserved_gdt_blocks", sb->s_reserved_gdt_blocks, false, 0, true, bs / 4));
  TORN_RETURN_IF_ERROR(Value("s_desc_size", sb->s_desc_size, false, 0, true, EXT2_MAX_DESC_SIZE, true));
  uint64_t should_be = uint64_t(sb->s_inodes_per_group) * fs->group_desc_count;
  if (should_be != sb->s_inodes_count)
    return Unsupported(fmt::format("ext4 super block: s_inodes_count {} should be {}: e2fsck fixes it",
                                   sb->s_inodes_count, should_be));
  if (sb->s_rev_level > EXT2_GOOD_OLD_REV)
    TORN_RETURN_IF_ERROR(
        Value("s_first_ino", sb->s_first_ino, true, EXT2_GOOD_OLD_FIRST_INO, true, sb->s_inodes_count));
  TORN_RETURN_IF_ERROR(
      Value("s_inode_size", EXT2_INODE_SIZE(sb), true, EXT2_GOOD_OLD_INODE_SIZE, true, bs, true));
  if (sb->s_blocks_per_group != sb->s_clusters_per_group * EXT2FS_CLUSTER_RATIO(fs))
    return Unsupported("ext4 super block: s_blocks_per_group does not match the cluster size: e2fsck aborts");
  if (sb->s_first_data_block != ((sb->s_log_block_size == 0 && EXT2FS_CLUSTER_RATIO(fs) == 1) ? 1u : 0u))
    return Unsupported("ext4 super block: s_first_data_block is wrong for the block size: e2fsck aborts");
  if (EXT2_INODE_SIZE(sb) > EXT2_GOOD_OLD_INODE_SIZE) {
    unsigned min = 4, max = EXT2_INODE_SIZE(sb) - EXT2_GOOD_OLD_INODE_SIZE;
    for (uint16_t v : {sb->s_min_extra_isize, sb->s_want_extra_isize})
      if (v && (v < min || v > max || (v & 3)))
        return Unsupported(
            fmt::format("ext4 super block: extra inode size {} out of range: e2fsck fixes it", v));
  }
  if (ext2fs_has_feature_metadata_csum(sb) && ext2fs_has_feature_gdt_csum(sb))
    return Unsupported("ext4 super block: metadata_csum and uninit_bg both set: e2fsck fixes it");
  if (!ext2fs_has_feature_metadata_csum(sb) && ext2fs_has_feature_csum_seed(sb))
    return Unsupported("ext4 super block: metadata_csum_seed without metadata_csum: e2fsck fixes it");
  if (ext2fs_has_feature_64bit(sb) && !ext2fs_has_feature_extents(sb))
    return Unsupported("ext4 super block: 64bit without extents: e2fsck fixes it");
  if (ext2fs_has_feature_meta_bg(sb) && sb->s_first_meta_bg > fs->desc_blocks)
    return Unsupported("ext4 super block: s_first_meta_bg too big: e2fsck fixes it");

  // The group descriptors.
  blk64_t first_block = sb->s_first_data_block, last_block = blocks - 1;
  bool csum_flag = ext2fs_has_group_desc_csum(fs);
  for (dgrp_t i = 0; i < fs->group_desc_count; ++i) {
    if (!ext2fs_has_feature_flex_bg(sb)) {
      first_block = ext2fs_group_first_block2(fs, i);
      last_block = ext2fs_group_last_block2(fs, i);
    }
    blk64_t bb = ext2fs_block_bitmap_loc(fs, i), ib = ext2fs_inode_bitmap_loc(fs, i),
            it = ext2fs_inode_table_loc(fs, i);
    if (bb < first_block || bb > last_block || ib < first_block || ib > last_block || it < first_block ||
        it + fs->inode_blocks_per_group - 1 > last_block || bb == 0 || ib == 0 || it == 0)
      return Unsupported(
          fmt::format("group {}: a bitmap or the inode table lies outside the group: e2fsck "
                      "fixes it",
                      i));
    if (!ext2fs_group_desc_csum_verify(fs, i))
      return Unsupported(fmt::format("group descriptor {}: bad checksum: e2fsck fixes it", i));
    if (!csum_flag && (ext2fs_bg_flags_test(fs, i, EXT2_BG_BLOCK_UNINIT) ||
                       ext2fs_bg_flags_test(fs, i, EXT2_BG_INODE_UNINIT) || ext2fs_bg_itable_unused(fs, i)))
      return Unsupported(
          fmt::format("group descriptor {}: uninit flags without checksums: e2fsck fixes it", i));
    if (i == fs->group_desc_count - 1 && ext2fs_bg_flags_test(fs, i, EXT2_BG_BLOCK_UNINIT))
      return Unsupported("the last group is BLOCK_UNINIT: e2fsck fixes it");
    if (csum_flag && (ext2fs_bg_itable_unused(fs, i) > ext2fs_bg_free_inodes_count(fs, i) ||
                      ext2fs_bg_itable_unused(fs, i) > sb->s_inodes_per_group))
      return Unsupported(fmt::format("group descriptor {}: bg_itable_unused too big: e2fsck fixes it", i));
  }

  if (UuidIsNull(sb->s_uuid) && !ext2fs_has_feature_metadata_csum(sb))
    return Unsupported("ext4 super block: no UUID: e2fsck makes one up");
  if (sb->s_flags & EXT2_FLAGS_TEST_FILESYS)
    return Unsupported("ext4 super block: test_fs flag: e2fsck clears it when ext4 is available");
  if (sb->s_creator_os == EXT2_OS_HURD && ext2fs_has_feature_filetype(sb))
    return Unsupported("ext4 super block: Hurd with filetype: e2fsck clears it");
  if (sb->s_rev_level == EXT2_GOOD_OLD_REV &&
      (sb->s_feature_compat || sb->s_feature_ro_compat || sb->s_feature_incompat))
    return Unsupported("ext4 super block: revision 0 with features: e2fsck updates the revision");
  if (sb->s_last_orphan || ext2fs_has_feature_orphan_present(sb))
    return Unsupported(
        fmt::format("orphan inodes (s_last_orphan {}): e2fsck releases them", sb->s_last_orphan));
  // The future-time checks run only with a check interval (or -f); whether they fire depends on the
  // clock e2fsck runs under, which the image does not tell.
  if (sb->s_checkinterval)
    return Unsupported("ext4 super block: s_checkinterval is set: e2fsck compares its times with the clock");
  for (uint32_t ino : {sb->s_usr_quota_inum, sb->s_grp_quota_inum, sb->s_prj_quota_inum}) {
    if (ino && (ino == EXT2_BAD_INO || ino == EXT2_ROOT_INO || ino == EXT2_BOOT_LOADER_INO ||
                ino == EXT2_UNDEL_DIR_INO || ino == EXT2_RESIZE_INO || ino == EXT2_JOURNAL_INO ||
                ino == EXT2_EXCLUDE_INO || ino == EXT4_REPLICA_INO || ino > sb->s_inodes_count))
      return Unsupported(fmt::format("ext4 super block: quota inode {} is invalid: e2fsck clears it", ino));
  }
  // e2fsck_move_ext3_journal: the backup of the journal inode's blocks, and a visible journal.
  if (sb->s_journal_inum && ext2fs_has_feature_journal(sb)) {
    ext2_inode inode;
    if (ext2fs_read_inode(fs, sb->s_journal_inum, &inode) == 0) {
      if (sb->s_jnl_backup_type == 0 || (sb->s_jnl_backup_type == EXT3_JNL_BACKUP_BLOCKS &&
                                         std::memcmp(inode.i_block, sb->s_jnl_blocks, EXT2_N_BLOCKS * 4)))
        return Unsupported(
            "ext4 super block: s_jnl_blocks differs from the journal inode: e2fsck rewrites it");
      if (sb->s_journal_inum != EXT2_JOURNAL_INO)
        return Unsupported("the journal is not in the reserved inode: e2fsck may move it");
    }
  }
  if (ext2fs_has_feature_dir_index(sb) &&
      !(sb->s_flags & (EXT2_FLAGS_SIGNED_HASH | EXT2_FLAGS_UNSIGNED_HASH)))
    return Unsupported("ext4 super block: no directory hash hint: e2fsck sets one");
  if (ext2fs_has_feature_quota(sb) && ((sb->s_usr_quota_inum && sb->s_usr_quota_inum != EXT4_USR_QUOTA_INO) ||
                                       (sb->s_grp_quota_inum && sb->s_grp_quota_inum != EXT4_GRP_QUOTA_INO)))
    return Unsupported("ext4 super block: quota inodes are visible: e2fsck hides them");
  (void)disk;
  return Status::Ok();
}

Status CloseFs(OpenFs& ofs, Disk& disk) {
  ext2_filsys fs = ofs.fs.get();
  bool super_only = false;
  // ext2fs_close2: after writes through the file system, s_kbytes_written is updated and the super
  // block flushed even when nothing else changed.
  if (!ofs.dirty) {
    if (!(ofs.wrote && fs->super->s_kbytes_written)) return Status::Ok();
    super_only = true;
  }
  // ext2fs_flush2, with EXT2_FLAG_MASTER_SB_ONLY (e2fsck always sets it here): the primary group
  // descriptors as they were read (and meta_bg's copies of each descriptor block), then the super
  // block. s_wtime and s_kbytes_written are left as they are (stamped fields, recovery.h).
  fs->super->s_block_group_nr = 0;
  if (!super_only) {
    const uint32_t bs = fs->blocksize;
    const auto* gd = reinterpret_cast<const std::byte*>(fs->group_desc);
    uint64_t old_desc_blocks = fs->desc_blocks;
    if (ext2fs_has_feature_meta_bg(fs->super) && fs->super->s_first_meta_bg < old_desc_blocks)
      old_desc_blocks = fs->super->s_first_meta_bg;
    for (dgrp_t i = 0; i < fs->group_desc_count; ++i) {
      blk64_t super_blk = 0, old_desc = 0, new_desc = 0;
      ext2fs_super_and_bgd_loc2(fs, i, &super_blk, &old_desc, &new_desc, nullptr);
      if (old_desc && i == 0)
        for (uint64_t k = 0; k < old_desc_blocks; ++k)
          TORN_RETURN_IF_ERROR(disk.WriteBlock(old_desc + k, std::span(gd + k * bs, bs)));
      if (new_desc) {
        uint64_t meta_bg = i / EXT2_DESC_PER_BLOCK(fs->super);
        TORN_RETURN_IF_ERROR(disk.WriteBlock(new_desc, std::span(gd + meta_bg * bs, bs)));
      }
    }
  }
  if (errcode_t err = ext2fs_superblock_csum_set(fs, fs->super))
    return Unsupported("super block checksum: " + Ext2Error(err));
  TORN_RETURN_IF_ERROR(disk.WriteSuper(SuperBytes(fs->super)));
  ofs.dirty = false;
  return Status::Ok();
}

}  // namespace torn::ext4::recovery
