// Block roles: what each block of an ext4 image is, and which blocks e2fsck and the kernel read as
// metadata. The complement (blocks nobody reads: regular-file data, unreferenced blocks, the journal's
// body once recovery left the journal empty) is the mask of a class key (classes/): two recovered
// images that agree on every metadata block get the same verdict from e2fsck -fn and from a mount.
// Every rule below, with the e2fsprogs 1.47.0 / Linux 6.1 code it stands on, is in docs/block_roles.md.
//
// How: libext2fs opens the image through an ImageView (ext2_view.h), with the view recording every
// sector it reads. The walk, in the order e2fsck's pass 1 looks at things:
//   1. opening as e2fsck does: a super block or group-descriptor table e2fsck would not accept as it
//      is (bad checksum, ext2fs_check_desc fails: e2fsck then falls back to a backup group) stops the
//      walk; after that, checksum errors are ignored (e2fsck reads past them too);
//   2. static metadata of every group: super block copies (and block 0 before s_first_data_block),
//      group descriptors (and backups, meta_bg layouts), reserved GDT blocks, block and inode
//      bitmaps, the whole inode table; the MMP block;
//   3. every inode e2fsck checks (reserved inodes below s_first_ino, the journal, quota and orphan-file
//      inodes the super block names, and inodes with i_links_count > 0, through the same inode scan
//      e2fsck uses), every inode the kernel's orphan cleanup reads (the s_last_orphan chain through
//      i_dtime, and the orphan file's entries), and the files of BlockRolesOptions::read_files:
//      its extent-tree or indirect blocks (read by libext2fs), its xattr block (i_file_acl); then its
//      data blocks by inode kind: a regular file's are data (not read) unless the file is special
//      (named by the super block: quota, orphan file; an EA inode; an htree flag on a non-directory)
//      or listed in read_files; a directory's, a symlink's and a special inode's are metadata, and so
//      is the block a device, fifo or socket inode's i_block[0] (or logical block 0) names
//      (e2fsck's check_is_really_dir reads it);
//   4. the journal inode (internal journal): its extent blocks and its first block (the journal super
//      block) are metadata; its other blocks (the log and the fast-commit area) are metadata too unless
//      the journal super block is valid and says the journal is empty (s_start == 0): then nobody
//      reads them;
//   5. every block no inode and no static structure claims is unreferenced.
// A block claimed twice keeps the claim that reads it (metadata wins over data; among metadata claims
// the first one made). Every sector the walk read is metadata as well (BlockRoles::metadata includes
// the view's record; a read block no claim makes metadata gets Role::kRead), so the walk itself
// depends only on metadata sectors: that is what makes the mask a function of the metadata.
//
// When the walk cannot finish (libext2fs cannot open the file system, an inode's block map is
// damaged, the journal inode is unusable), BlockRoles::complete is false and `why` says where: the
// caller masks nothing (every block counts as metadata: `metadata` is the whole image and `extents`
// one kRead extent). A damaged image is judged, never masked.
//
// The walk records the view's reads into a set of its own (ImageView::RecordInto) and stops recording
// when it returns: a caller that was recording must start again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ext4/image_view.h"

namespace torn::ext4 {

enum class Role : uint8_t {
  kUnreferenced,       // no inode or static structure claims it (free, or leaked)
  kRegularData,        // data of a regular file: never read by e2fsck or the kernel's metadata code
  kJournalLog,         // the journal's log or fast-commit area while the journal is empty
  // Everything below is metadata: read by e2fsck or the kernel.
  kSuperBlock,         // primary or backup super block (the block that holds it; block 0 of a
                       // 1 KiB-block file system too)
  kGroupDescriptors,   // group descriptor blocks (primary or backup), reserved GDT blocks
  kBlockBitmap,
  kInodeBitmap,
  kInodeTable,
  kMmp,
  kJournalSuper,       // the journal's first block
  kJournalMetadata,    // the journal's log while it is not empty (or cannot be trusted to be)
  kTreeBlock,          // extent-tree or indirect block of `owner`
  kXattrBlock,         // extended-attribute block of `owner`
  kDirectory,          // directory block of `owner`
  kSymlink,            // the block of a slow symlink
  kSpecialData,        // data of a special inode (reserved inode, quota, orphan file, EA inode,
                       // device/fifo/socket, unknown mode, htree flag on a non-directory)
  kReadFileData,       // data of a file the caller reads (BlockRolesOptions::read_files)
  kRead,               // read by the walk and claimed by nothing above
};

inline bool IsMetadata(Role r) { return r > Role::kJournalLog; }
inline constexpr int kRoleCount = static_cast<int>(Role::kRead) + 1;

struct BlockExtent {
  uint64_t first = 0;   // file-system block
  uint64_t count = 0;
  Role role = Role::kUnreferenced;
  uint32_t owner = 0;   // inode number (inode roles) or group number (static roles)
};

struct BlockRolesOptions {
  // Paths from the root (e.g. "p/one") whose data the caller reads: the data oracle's files, torn
  // gate's backing file. A path that does not resolve is skipped (the data oracle reports it).
  std::vector<std::string> read_files;
};

struct BlockRoles {
  bool complete = false;
  std::string why;                   // !complete: where the walk stopped
  uint32_t block_size = 0;
  uint64_t blocks = 0;               // blocks in the file system (s_blocks_count)
  std::vector<BlockExtent> extents;  // sorted by block, disjoint, covering [0, blocks)
  // Sectors (512 bytes, image_view.h) that are metadata: every metadata extent, and every sector the
  // walk read. When !complete, the whole image.
  SectorSet metadata;
  uint64_t inodes_walked = 0;        // inodes whose blocks the walk visited

  Role RoleOf(uint64_t block) const;  // kUnreferenced past the end
  uint64_t BlocksWithRole(Role r) const;
};

// Walks the file system in `view` (the recovered image: run it after ApplyRecovery). The Status is an
// error only when the image file cannot be read; a damaged file system gives complete == false.
Result<BlockRoles> ComputeBlockRoles(ImageView& view, const BlockRolesOptions& options = {});

std::string_view RoleName(Role r);  // "regular file data", "inode table", ...

}  // namespace torn::ext4
