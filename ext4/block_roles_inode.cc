// Block roles (block_roles.h): the inode side of the walk. Which inodes are walked (e2fsck's pass 1,
// the kernel's orphan cleanup, the journal, the caller's files), what each one's blocks are, and how
// its block map is read. The rules and their sources are in docs/block_roles.md.
#include <algorithm>
#include <cstring>
#include <string>

#include "ext4/block_roles_walk.h"
#include "ext4/ext2_view.h"
#include "ext4/jbd2_format.h"

namespace torn::ext4::roles {

// Receives one inode's block map as libext2fs reads it: tree blocks (extent index/leaf blocks,
// indirect blocks) and runs of data blocks, and turns them into claims.
struct MapSink {
  Walk& walk;
  ext2_ino_t ino;
  Role data_role;
  bool journal = false;  // the journal inode: block 0 is its super block, the rest its log
  uint64_t steps = 0, limit = 0;
  bool overflow = false;
  // e2fsck_get_journal's process_journal_block: the journal must map [0, n) without holes.
  uint64_t next_lblk = 0;
  bool journal_gap = false;
  // Runs of block_iterate3's single blocks.
  uint64_t run_l = 0, run_p = 0, run_n = 0;

  bool Step() {
    if (++steps <= limit) return true;
    overflow = true;
    return false;
  }
  void Tree(uint64_t pblk) { walk.AddClaim(pblk, 1, Role::kTreeBlock, ino); }
  void Data(uint64_t lblk, uint64_t pblk, uint64_t n) {
    if (!journal) {
      walk.AddClaim(pblk, n, data_role, ino);
      return;
    }
    if (lblk != next_lblk || pblk < walk.fs_->super->s_first_data_block || pblk + n > walk.blocks_)
      journal_gap = true;
    next_lblk = std::max(next_lblk, lblk + n);
    if (lblk == 0) {
      walk.AddClaim(pblk, 1, Role::kJournalSuper, ino);
      walk.AddClaim(pblk + 1, n - 1, walk.journal_log_role_, ino);
    } else {
      walk.AddClaim(pblk, n, walk.journal_log_role_, ino);
    }
  }
  void Single(uint64_t lblk, uint64_t pblk) {
    if (run_n && lblk == run_l + run_n && pblk == run_p + run_n) {
      ++run_n;
      return;
    }
    Flush();
    run_l = lblk, run_p = pblk, run_n = 1;
  }
  void Flush() {
    if (run_n) Data(run_l, run_p, run_n);
    run_n = 0;
  }
};

namespace {

// The extent tree through libext2fs's handle, every node in order (EXT2_EXTENT_NEXT goes down into
// every index entry, reading the child block). Unlike ext2fs_block_iterate3, which skips leaf
// extents that overlap an earlier one, every leaf extent is claimed whole: e2fsck's
// scan_extent_node visits them all.
errcode_t WalkExtents(ext2_filsys fs, ext2_ino_t ino, ext2_inode* inode, MapSink& sink) {
  ext2_extent_handle_t handle = nullptr;
  if (errcode_t err = ext2fs_extent_open2(fs, ino, inode, &handle)) return err;
  errcode_t err = 0;
  int op = EXT2_EXTENT_ROOT;
  ext2fs_extent extent;
  while (sink.Step()) {
    err = ext2fs_extent_get(handle, op, &extent);
    if (err) {
      if (err == EXT2_ET_EXTENT_NO_NEXT) err = 0;
      break;
    }
    op = EXT2_EXTENT_NEXT;
    if (!(extent.e_flags & EXT2_EXTENT_FLAGS_LEAF)) {
      if (!(extent.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)) sink.Tree(extent.e_pblk);
      continue;
    }
    if (extent.e_len) sink.Data(extent.e_lblk, extent.e_pblk, extent.e_len);
  }
  ext2fs_extent_free(handle);
  return err;
}

int IndirectBlock(ext2_filsys, blk64_t* blocknr, e2_blkcnt_t blockcnt, blk64_t, int, void* priv) {
  auto& sink = *static_cast<MapSink*>(priv);
  if (!sink.Step()) return BLOCK_ABORT;
  if (blockcnt < 0)
    sink.Tree(*blocknr);  // BLOCK_COUNT_IND, _DIND, _TIND: an indirect block (libext2fs read it)
  else
    sink.Single(uint64_t(blockcnt), *blocknr);
  return 0;
}

// Block-mapped inodes: ext2fs_block_iterate3 as e2fsck's check_blocks calls it (read-only here). It
// reads each indirect block, checking its number first (an out-of-range one is an error).
errcode_t WalkIndirect(ext2_filsys fs, ext2_ino_t ino, char* block_buf, MapSink& sink) {
  errcode_t err = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, block_buf, IndirectBlock, &sink);
  sink.Flush();
  return err;
}

bool UuidIsNull(const unsigned char* u) {
  return std::all_of(u, u + 16, [](unsigned char c) { return c == 0; });
}

std::string InodeName(ext2_ino_t ino) { return "inode " + std::to_string(ino); }

}  // namespace

bool Walk::SpecialIno(ext2_ino_t ino) const {
  ext2_super_block* sb = fs_->super;
  return ino == journal_ino_ || ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum ||
         ino == sb->s_prj_quota_inum || (sb->s_orphan_file_inum && ino == sb->s_orphan_file_inum);
}

Role Walk::DataRole(ext2_ino_t ino, const ext2_inode* inode) const {
  const uint16_t mode = inode->i_mode;
  // Reserved inodes (boot loader, resize, bad blocks, ...) and the inodes the super block names
  // (quota files e2fsck compares, the orphan file both read): their data is read. Root is a
  // directory like any other.
  if (ino < EXT2_FIRST_INODE(fs_->super) || SpecialIno(ino) || (inode->i_flags & EXT4_EA_INODE_FL))
    return LINUX_S_ISDIR(mode) ? Role::kDirectory : Role::kSpecialData;
  if (LINUX_S_ISDIR(mode)) return Role::kDirectory;
  if (LINUX_S_ISREG(mode)) {
    // check_blocks -> handle_htree reads logical block 0 of any inode with the htree flag.
    if (inode->i_flags & EXT2_INDEX_FL) return Role::kSpecialData;
    if (std::binary_search(read_inos_.begin(), read_inos_.end(), ino)) return Role::kReadFileData;
    return Role::kRegularData;
  }
  if (LINUX_S_ISLNK(mode)) return Role::kSymlink;
  return Role::kSpecialData;  // devices, fifos, sockets, unknown modes: check_is_really_dir
}

bool Walk::ReadInode(ext2_ino_t ino, std::vector<char>& buf, const char* what) {
  errcode_t err = ext2fs_read_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(buf.data()),
                                         int(EXT2_INODE_SIZE(fs_->super)));
  if (err) return Fail(InodeName(ino) + " (" + what + "): " + Ext2Error(err));
  return true;
}

bool Walk::WalkInode(ext2_ino_t ino, const ext2_inode* inode_in) {
  if (Walked(ino)) return true;
  walked_[ino] = true;
  ++inodes_walked_;
  ext2_inode inode;
  std::memcpy(&inode, inode_in, sizeof(inode));
  const uint16_t mode = inode.i_mode;
  ext2_super_block* sb = fs_->super;

  // check_ext_attr: the xattr block (e2fsck reads it when its number is in range).
  if (blk64_t acl = ext2fs_file_acl_block(fs_, &inode)) AddClaim(acl, 1, Role::kXattrBlock, ino);

  // check_blocks: the block map, for the inodes whose i_block holds one (directories, regular files,
  // slow symlinks; not inline data); the bad-blocks inode's always (pass 1 iterates it directly).
  if (ino == EXT2_BAD_INO || ext2fs_inode_has_valid_blocks2(fs_, &inode)) {
    MapSink sink{*this, ino, DataRole(ino, &inode)};
    // Without the extents feature e2fsck maps an extent-flagged inode with ext2fs_block_iterate3,
    // whose extent loop reports shifted block numbers for overlapping extents: blocks no extent
    // names. Harmless for data nobody reads; for the rest, the walk cannot promise a superset.
    if ((inode.i_flags & EXT4_EXTENTS_FL) && !ext2fs_has_feature_extents(sb) &&
        (IsMetadata(sink.data_role) || ino == journal_ino_))
      return Fail(InodeName(ino) + " has the extents flag on a file system without the extents feature");
    sink.journal = ino == journal_ino_;
    sink.limit = 4 * blocks_ + 4096;  // more entries than that is a damaged map, never a real one
    errcode_t err = (inode.i_flags & EXT4_EXTENTS_FL) ? WalkExtents(fs_, ino, &inode, sink)
                                                     : WalkIndirect(fs_, ino, block_buf_.data(), sink);
    if (err) return Fail(InodeName(ino) + ": block map: " + Ext2Error(err));
    if (sink.overflow) return Fail(InodeName(ino) + ": block map: more than " + std::to_string(sink.limit) +
                                   " entries in a file system of " + std::to_string(blocks_) + " blocks");
    if (sink.journal && (sink.journal_gap || sink.next_lblk * fs_->blocksize < EXT2_I_SIZE(&inode)))
      return Fail(InodeName(ino) + " (journal): its block map has holes or blocks out of range, or is "
                  "shorter than i_size (e2fsck would use the super block's backup of the map)");
  }

  // check_is_really_dir (device, fifo, socket or unknown mode) and e2fsck_pass1_check_symlink (a
  // symlink that is not fast): they read the block i_block[0] names, or logical block 0 of an extent
  // map, even when i_blocks says the inode has none. Both candidates are claimed.
  const bool inline_data = (inode.i_flags & EXT4_INLINE_DATA_FL) && ext2fs_has_feature_inline_data(sb);
  if (!LINUX_S_ISDIR(mode) && !LINUX_S_ISREG(mode) && !inline_data) {
    bool reads = false;
    if (LINUX_S_ISLNK(mode)) {
      reads = !ext2fs_is_fast_symlink(&inode);
    } else if (inode.i_block[0] != 0) {
      bool extent_mapped = ext2fs_has_feature_extents(sb) && (inode.i_flags & EXT4_EXTENTS_FL);
      bool high_blocks = false;
      for (int i = 4; i < EXT2_N_BLOCKS; ++i) high_blocks |= inode.i_block[i] != 0;
      // A device with one link, no extent map and nothing past i_block[3] is believed.
      reads = !((LINUX_S_ISCHR(mode) || LINUX_S_ISBLK(mode)) && inode.i_links_count == 1 && !extent_mapped &&
                !high_blocks);
    }
    if (reads) {
      Role role = LINUX_S_ISLNK(mode) ? Role::kSymlink : Role::kSpecialData;
      if (inode.i_flags & EXT4_EXTENTS_FL) {
        blk64_t pblk = 0;
        if (ext2fs_bmap2(fs_, ino, &inode, nullptr, 0, 0, nullptr, &pblk) == 0 && pblk)
          AddClaim(pblk, 1, role, ino);
      }
      if (inode.i_block[0] >= sb->s_first_data_block) AddClaim(inode.i_block[0], 1, role, ino);
    }
  }
  return true;
}

bool Walk::ReadFiles() {
  for (const std::string& path : options_.read_files) {
    ext2_ino_t ino = 0;
    // A path that does not resolve is the data oracle's finding, not the walk's.
    if (ext2fs_namei(fs_, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino) == 0 && ValidIno(ino))
      read_inos_.push_back(ino);
  }
  std::sort(read_inos_.begin(), read_inos_.end());
  read_inos_.erase(std::unique(read_inos_.begin(), read_inos_.end()), read_inos_.end());
  return true;
}

// e2fsck_get_journal and e2fsck_journal_load (e2fsck/journal.c), jbd2_journal_load (the kernel): the
// journal super block is journal block 0; the log is read only when recovery runs, and recovery
// (do_one_pass, fast-commit replay included) does not start when s_start == 0.
bool Walk::Journal() {
  ext2_super_block* sb = fs_->super;
  if (!sb->s_journal_inum || !UuidIsNull(sb->s_journal_uuid)) return true;  // none, or external
  if (!ValidIno(sb->s_journal_inum))
    return Fail("the super block names journal " + InodeName(sb->s_journal_inum) + ", out of range");
  journal_ino_ = sb->s_journal_inum;
  std::vector<char> buf(inode_buf_.size());
  if (!ReadInode(journal_ino_, buf, "journal")) return false;
  auto* inode = reinterpret_cast<ext2_inode*>(buf.data());
  // e2fsck_get_journal's checks; failing one, e2fsck maps the journal through s_jnl_blocks instead.
  if (!inode->i_links_count || !LINUX_S_ISREG(inode->i_mode) || (inode->i_flags & EXT4_ENCRYPT_FL) ||
      EXT2_I_SIZE(inode) / fs_->blocksize < jbd2::kMinJournalBlocks)
    return Fail("journal " + InodeName(journal_ino_) +
                " is not usable (links, mode, encryption or size): e2fsck would use the super block's "
                "backup of its block map");
  blk64_t pblk = 0;
  if (errcode_t err = ext2fs_bmap2(fs_, journal_ino_, inode, nullptr, 0, 0, nullptr, &pblk))
    return Fail("journal " + InodeName(journal_ino_) + ": block 0: " + Ext2Error(err));
  if (pblk < sb->s_first_data_block || pblk >= blocks_)
    return Fail("journal " + InodeName(journal_ino_) + ": block 0 maps to block " + std::to_string(pblk) +
                ", out of range");
  std::vector<std::byte> jsb(fs_->blocksize);
  if (errcode_t err = io_channel_read_blk64(fs_->io, pblk, 1, jsb.data()))
    return Fail("journal super block (block " + std::to_string(pblk) + "): " + Ext2Error(err));
  uint32_t type = jbd2::Be32(jsb.data() + 4);
  bool valid = jbd2::Be32(jsb.data()) == jbd2::kMagic && (type == jbd2::kSuperV1 || type == jbd2::kSuperV2) &&
               jbd2::Be32(jsb.data() + jbd2::kSbBlocksize) == fs_->blocksize;
  bool empty = valid && jbd2::Be32(jsb.data() + jbd2::kSbStart) == 0;
  // Without has_journal, e2fsck still loads a journal the super block names, and may offer to
  // replay it: keep the log.
  journal_log_role_ = (empty && ext2fs_has_feature_journal(sb)) ? Role::kJournalLog : Role::kJournalMetadata;
  return true;
}

// e2fsck_pass1: the same inode scan (ext2fs_open_inode_scan with EXT2_SF_SKIP_MISSING_ITABLE |
// EXT2_SF_WARN_GARBAGE_INODES; with group-descriptor checksums it skips uninitialized groups and
// each group's unused tail, as e2fsck does), and the same choice: reserved inodes, the journal,
// quota and orphan-file inodes, and inodes with i_links_count > 0 get check_blocks; an inode with no
// links above s_first_ino is skipped whatever it holds.
bool Walk::ScanInodes() {
  ext2_inode_scan scan = nullptr;
  if (errcode_t err = ext2fs_open_inode_scan(fs_, 64, &scan)) return Fail("inode scan: " + Ext2Error(err));
  ext2fs_inode_scan_flags(scan, EXT2_SF_SKIP_MISSING_ITABLE | EXT2_SF_WARN_GARBAGE_INODES, 0);
  const ext2_ino_t first_ino = EXT2_FIRST_INODE(fs_->super);
  auto* inode = reinterpret_cast<ext2_inode*>(inode_buf_.data());
  ext2_ino_t ino = 0;
  bool ok = true;
  while (ok) {
    errcode_t err = ext2fs_get_next_inode_full(scan, &ino, inode, int(EXT2_INODE_SIZE(fs_->super)));
    if (err == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE) continue;  // e2fsck skips it too
    if (err && err != EXT2_ET_INODE_CSUM_INVALID && err != EXT2_ET_INODE_IS_GARBAGE) {
      ok = Fail("inode scan after " + InodeName(ino) + ": " + Ext2Error(err));
      break;
    }
    if (ino == 0) break;
    if (ino < first_ino || SpecialIno(ino) || inode->i_links_count > 0) ok = WalkInode(ino, inode);
  }
  ext2fs_close_inode_scan(scan);
  return ok;
}

// The kernel's ext4_orphan_cleanup (fs/ext4/orphan.c) at mount: the chain from s_last_orphan through
// i_dtime, then every entry of the orphan file's blocks; each inode is truncated or deleted, which
// reads its block map and xattr block. e2fsck -n leaves orphans alone; the kernel does not.
bool Walk::Orphans() {
  ext2_super_block* sb = fs_->super;
  const ext2_ino_t first_ino = EXT2_FIRST_INODE(sb);
  std::vector<char> buf(inode_buf_.size());
  auto* inode = reinterpret_cast<ext2_inode*>(buf.data());
  std::vector<bool> seen(walked_.size(), false);
  // ext4_orphan_get refuses a number outside [s_first_ino, s_inodes_count] and the cleanup stops; a
  // number seen before ends the chain here (every inode on it is walked already).
  for (ext2_ino_t ino = sb->s_last_orphan; ino >= first_ino && ino <= sb->s_inodes_count && !seen[ino];) {
    seen[ino] = true;
    if (!ReadInode(ino, buf, "orphan chain") || !WalkInode(ino, inode)) return false;
    ino = inode->i_dtime;
  }

  if (!ext2fs_has_feature_orphan_file(sb) || !ValidIno(sb->s_orphan_file_inum)) return true;
  const ext2_ino_t of = sb->s_orphan_file_inum;
  std::vector<char> ofbuf(inode_buf_.size());
  if (!ReadInode(of, ofbuf, "orphan file")) return false;
  auto* ofinode = reinterpret_cast<ext2_inode*>(ofbuf.data());
  // ext4_init_orphan_info reads blocks [0, i_size / block size) and fails the mount at a hole.
  const uint64_t nblocks = std::min<uint64_t>(EXT2_I_SIZE(ofinode) / fs_->blocksize, blocks_);
  const uint32_t per_block = (fs_->blocksize - 8) / 4;  // entries before the 8-byte tail
  std::vector<char> block(fs_->blocksize);
  for (uint64_t lblk = 0; lblk < nblocks; ++lblk) {
    blk64_t pblk = 0;
    if (errcode_t err = ext2fs_bmap2(fs_, of, ofinode, nullptr, 0, lblk, nullptr, &pblk))
      return Fail("orphan file " + InodeName(of) + ": block " + std::to_string(lblk) + ": " + Ext2Error(err));
    if (pblk == 0 || pblk >= blocks_) break;
    if (errcode_t err = io_channel_read_blk64(fs_->io, pblk, 1, block.data()))
      return Fail("orphan file block " + std::to_string(pblk) + ": " + Ext2Error(err));
    for (uint32_t j = 0; j < per_block; ++j) {
      uint32_t entry = 0;
      std::memcpy(&entry, block.data() + 4 * j, 4);
      entry = ext2fs_le32_to_cpu(entry);
      if (entry < first_ino || entry > sb->s_inodes_count || Walked(entry)) continue;
      if (!ReadInode(entry, buf, "orphan file entry") || !WalkInode(entry, inode)) return false;
    }
  }
  return true;
}

// Inodes that must be walked whatever their link count, when the scan did not return them (an
// uninitialized group, or no links): the caller's files (ext2fs_file_read reads them anyway), the
// journal, the quota files and the orphan file.
bool Walk::Leftovers() {
  ext2_super_block* sb = fs_->super;
  std::vector<ext2_ino_t> inos = read_inos_;
  for (ext2_ino_t ino : {ext2_ino_t(journal_ino_), ext2_ino_t(sb->s_usr_quota_inum), ext2_ino_t(sb->s_grp_quota_inum),
                         ext2_ino_t(sb->s_prj_quota_inum), ext2_ino_t(sb->s_orphan_file_inum)})
    if (ino) inos.push_back(ino);
  std::vector<char> buf(inode_buf_.size());
  for (ext2_ino_t ino : inos) {
    if (!ValidIno(ino) || Walked(ino)) continue;
    if (!ReadInode(ino, buf, "named inode") || !WalkInode(ino, reinterpret_cast<ext2_inode*>(buf.data())))
      return false;
  }
  return true;
}

}  // namespace torn::ext4::roles
