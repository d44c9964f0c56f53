// Internals of the block-roles walk (block_roles.h): the claims it makes and the walker that makes
// them. block_roles.cc opens the file system, claims the static metadata and resolves the claims into
// extents; block_roles_inode.cc walks inodes (the scan, the orphan chain and file, the journal, the
// caller's files). Not a public header: only those two files include it.
#pragma once

#include <ext2fs/ext2fs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ext4/block_roles.h"

namespace torn::ext4::roles {

// One claim: blocks [first, first + count) have `role`. Claims may overlap; the resolution keeps,
// for each block, the first metadata claim, else the first claim.
struct Claim {
  uint64_t first = 0, count = 0;
  Role role = Role::kUnreferenced;
  uint32_t owner = 0;
};

// Resolves claims into disjoint extents covering [0, blocks) (unclaimed blocks: kUnreferenced).
std::vector<BlockExtent> ResolveClaims(const std::vector<Claim>& claims, uint64_t blocks);

class Walk {
 public:
  Walk(ext2_filsys fs, const BlockRolesOptions& options);

  // Each step returns false when the walk cannot finish; why() then says where.
  bool StaticMetadata();   // block_roles.cc
  bool ReadFiles();        // resolves options.read_files (before the scan: their data role)
  bool Journal();          // the journal super block: is the log read?
  bool ScanInodes();       // every inode e2fsck's pass 1 walks
  bool Orphans();          // the s_last_orphan chain and the orphan file's entries
  bool Leftovers();        // read files, journal and special inodes the scan did not walk

  const std::string& why() const { return why_; }
  std::vector<Claim>& claims() { return claims_; }
  uint64_t inodes_walked() const { return inodes_walked_; }

 private:
  bool Fail(std::string why) {
    why_ = std::move(why);
    return false;
  }
  void AddClaim(uint64_t first, uint64_t count, Role role, uint32_t owner);
  bool Walked(ext2_ino_t ino) const { return ino < walked_.size() && walked_[ino]; }
  bool ValidIno(ext2_ino_t ino) const { return ino >= 1 && ino <= fs_->super->s_inodes_count; }
  bool ReadInode(ext2_ino_t ino, std::vector<char>& buf, const char* what);

  // Claims everything of one inode: xattr block, block map, data by kind, the special first block.
  bool WalkInode(ext2_ino_t ino, const ext2_inode* inode);
  // The role of the inode's data blocks (the journal's depend on the logical block: DataRoleAt).
  Role DataRole(ext2_ino_t ino, const ext2_inode* inode) const;
  bool SpecialIno(ext2_ino_t ino) const;

  friend struct MapSink;

  ext2_filsys fs_;
  const BlockRolesOptions& options_;
  uint64_t blocks_;
  std::string why_;
  std::vector<Claim> claims_;
  std::vector<bool> walked_;        // by inode number
  std::vector<ext2_ino_t> read_inos_;  // sorted
  std::vector<char> block_buf_;     // for ext2fs_block_iterate3 (3 blocks)
  std::vector<char> inode_buf_;     // one on-disk inode
  ext2_ino_t journal_ino_ = 0;      // internal journal's inode, 0 when none
  Role journal_log_role_ = Role::kJournalMetadata;
  uint64_t inodes_walked_ = 0;
};

}  // namespace torn::ext4::roles
