// Block roles: what each block of an ext4 image is, and which blocks e2fsck and the kernel read as
// metadata. The complement (blocks nobody reads: regular-file data, unreferenced blocks, the journal's
// body once recovery left the journal empty) is the mask of a class key (classes/): two recovered
// images that agree on every metadata block get the same verdict from e2fsck -fn and from a mount.
//
// How: libext2fs opens the image through an ImageView (ext2_view.h), with the view recording every
// sector it reads. The walk, in the order e2fsck's pass 1 looks at things:
//   1. static metadata of every group: super block copies, group descriptors (and backups), reserved
//      GDT blocks, block and inode bitmaps, the whole inode table; the MMP block;
//   2. every inode e2fsck checks (reserved inodes below s_first_ino, and inodes with i_links_count >
//      0, through the same inode scan e2fsck uses) and the orphan chain (s_last_orphan, i_dtime links):
//      its extent-tree or indirect blocks (read by libext2fs), its xattr block (i_file_acl); then its
//      data blocks by inode kind: a regular file's are data (not read) unless the file is special
//      (named by the super block: journal, quota, orphan file; or an EA inode) or listed in
//      BlockRolesOptions::read_files; a directory's, a symlink's and a special inode's are metadata;
//   3. the journal inode: its extent blocks and its first block (the journal super block) are
//      metadata; its other blocks (the log and the fast-commit area) are metadata too unless the
//      journal super block says the journal is empty (s_start == 0): then nobody reads them;
//   4. every block no inode and no static structure claims is unreferenced.
// A block claimed twice keeps the claim that reads it (metadata wins over data). Every sector the
// walk read is metadata as well (BlockRoles::metadata includes the view's record), so the walk itself
// depends only on metadata sectors: that is what makes the mask a function of the metadata (the
// argument is in docs/checker.md, "Classes").
//
// When the walk cannot finish (libext2fs cannot open the file system, an inode's block map is
// damaged, a loop in the orphan chain), BlockRoles::complete is false and `why` says where: the caller
// masks nothing (every block counts as metadata). A damaged image is judged, never masked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext4/image_view.h"

namespace torn::ext4 {

enum class Role : uint8_t {
  kUnreferenced,       // no inode or static structure claims it (free, or leaked)
  kRegularData,        // data of a regular file: never read by e2fsck or the kernel's metadata code
  kJournalLog,         // the journal's log or fast-commit area while the journal is empty
  // Everything below is metadata: read by e2fsck or the kernel.
  kSuperBlock,         // primary or backup super block (the block that holds it)
  kGroupDescriptors,   // group descriptor blocks (primary or backup), reserved GDT blocks
  kBlockBitmap,
  kInodeBitmap,
  kInodeTable,
  kMmp,
  kJournalSuper,       // the journal's first block
  kJournalMetadata,    // the journal's log while it is not empty
  kTreeBlock,          // extent-tree or indirect block of `owner`
  kXattrBlock,         // extended-attribute block of `owner`
  kDirectory,          // directory block of `owner`
  kSymlink,            // the block of a slow symlink
  kSpecialData,        // data of a special inode (reserved inode, quota, orphan file, EA inode)
  kReadFileData,       // data of a file the caller reads (BlockRolesOptions::read_files)
  kRead,               // read by the walk and claimed by nothing above
};

inline bool IsMetadata(Role r) { return r > Role::kJournalLog; }

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

  Role RoleOf(uint64_t block) const;  // kUnreferenced past the end
};

// Walks the file system in `view` (the recovered image: run it after ApplyRecovery). The Status is an
// error only when the image file cannot be read; a damaged file system gives complete == false.
Result<BlockRoles> ComputeBlockRoles(ImageView& view, const BlockRolesOptions& options = {});

std::string_view RoleName(Role r);  // "regular file data", "inode table", ...

}  // namespace torn::ext4
