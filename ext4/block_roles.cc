// Block roles (block_roles.h): opening the file system as e2fsck does, the static metadata of every
// group, and the resolution of the walk's claims into extents. The inode walk is in
// block_roles_inode.cc; the rules and their sources are in docs/block_roles.md.
#include "ext4/block_roles.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "ext4/block_roles_walk.h"
#include "ext4/ext2_view.h"

namespace torn::ext4 {
namespace roles {

Walk::Walk(ext2_filsys fs, const BlockRolesOptions& options)
    : fs_(fs),
      options_(options),
      blocks_(ext2fs_blocks_count(fs->super)),
      walked_(size_t(fs->super->s_inodes_count) + 1, false),
      block_buf_(size_t(fs->blocksize) * 3),
      inode_buf_(std::max<size_t>(EXT2_INODE_SIZE(fs->super), sizeof(ext2_inode_large))) {}

void Walk::AddClaim(uint64_t first, uint64_t count, Role role, uint32_t owner) {
  // Blocks past the file system's end are read by nobody (libext2fs and the kernel refuse them).
  if (first >= blocks_ || count == 0) return;
  count = std::min(count, blocks_ - first);
  claims_.push_back({first, count, role, owner});
}

// Mirrors ext2fs_reserve_super_and_bgd (lib/ext2fs/alloc_sb.c), which mke2fs and e2fsck's pass 1
// (mark_table_blocks) use to find what every group holds, plus the group's bitmaps and inode table
// as its descriptor places them (flex_bg packs them anywhere). Every copy counts, backups included:
// e2fsck reads backups when the primary is bad, and a superset is what soundness asks for.
bool Walk::StaticMetadata() {
  ext2_super_block* sb = fs_->super;
  // Block 0 of a 1 KiB-block file system (before s_first_data_block): the boot sector. Nobody
  // interprets it, but it is one block and sits beside the super block: kept as metadata.
  if (sb->s_first_data_block > 0) AddClaim(0, sb->s_first_data_block, Role::kSuperBlock, 0);
  const uint64_t old_desc_blocks = ext2fs_has_feature_meta_bg(sb)
                                       ? uint64_t(sb->s_first_meta_bg)
                                       : uint64_t(fs_->desc_blocks) + sb->s_reserved_gdt_blocks;
  for (dgrp_t g = 0; g < fs_->group_desc_count; ++g) {
    blk64_t super_blk = 0, old_desc = 0, new_desc = 0;
    blk_t used = 0;
    ext2fs_super_and_bgd_loc2(fs_, g, &super_blk, &old_desc, &new_desc, &used);
    if (super_blk || g == 0) AddClaim(super_blk, 1, Role::kSuperBlock, g);
    if (old_desc) AddClaim(old_desc, old_desc_blocks, Role::kGroupDescriptors, g);
    if (new_desc) AddClaim(new_desc, 1, Role::kGroupDescriptors, g);
    if (blk64_t b = ext2fs_block_bitmap_loc(fs_, g)) AddClaim(b, 1, Role::kBlockBitmap, g);
    if (blk64_t b = ext2fs_inode_bitmap_loc(fs_, g)) AddClaim(b, 1, Role::kInodeBitmap, g);
    if (blk64_t b = ext2fs_inode_table_loc(fs_, g))
      AddClaim(b, fs_->inode_blocks_per_group, Role::kInodeTable, g);
  }
  if (ext2fs_has_feature_mmp(sb) && sb->s_mmp_block) AddClaim(sb->s_mmp_block, 1, Role::kMmp, 0);
  return true;
}

// A sweep over the claims' ends: between two consecutive ends the set of covering claims is fixed,
// and the winner is the first metadata claim, else the first claim (claims are numbered in the order
// the walk made them).
std::vector<BlockExtent> ResolveClaims(const std::vector<Claim>& claims, uint64_t blocks) {
  struct Event {
    uint64_t at;
    uint32_t claim;
    bool start;
  };
  std::vector<Event> events;
  events.reserve(claims.size() * 2);
  for (uint32_t i = 0; i < claims.size(); ++i) {
    if (claims[i].count == 0) continue;
    events.push_back({claims[i].first, i, true});
    events.push_back({claims[i].first + claims[i].count, i, false});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });

  std::set<std::pair<int, uint32_t>> active;  // (0 metadata / 1 not, claim number)
  auto key = [&](uint32_t i) { return std::pair<int, uint32_t>(IsMetadata(claims[i].role) ? 0 : 1, i); };
  std::vector<BlockExtent> out;
  auto emit = [&](uint64_t from, uint64_t to) {
    if (from >= to) return;
    Role role = Role::kUnreferenced;
    uint32_t owner = 0;
    if (!active.empty()) {
      const Claim& c = claims[active.begin()->second];
      role = c.role;
      owner = c.owner;
    }
    if (!out.empty() && out.back().role == role && out.back().owner == owner &&
        out.back().first + out.back().count == from)
      out.back().count += to - from;
    else
      out.push_back({from, to - from, role, owner});
  };
  uint64_t pos = 0;
  for (size_t k = 0; k < events.size();) {
    uint64_t at = std::min(events[k].at, blocks);
    emit(pos, at);
    pos = std::max(pos, at);
    for (uint64_t here = events[k].at; k < events.size() && events[k].at == here; ++k) {
      if (events[k].start)
        active.insert(key(events[k].claim));
      else
        active.erase(key(events[k].claim));
    }
  }
  emit(pos, blocks);
  return out;
}

}  // namespace roles

namespace {

BlockRoles Incomplete(BlockRoles roles, const ImageView& view, std::string why) {
  roles.complete = false;
  roles.why = std::move(why);
  roles.extents.clear();
  if (roles.blocks) roles.extents.push_back({0, roles.blocks, Role::kRead, 0});
  roles.metadata.Clear();
  roles.metadata.Add(0, (view.bytes() + kSector - 1) / kSector);
  return roles;
}

// Stops the view's recording however the walk ends.
struct RecordingGuard {
  ImageView& view;
  ~RecordingGuard() { view.RecordInto(nullptr); }
};

}  // namespace

Result<BlockRoles> ComputeBlockRoles(ImageView& view, const BlockRolesOptions& options) {
  BlockRoles roles;
  // The one read whose failure means "the image cannot be read" rather than "the file system is
  // damaged": the primary super block's bytes. Every later read error is the file system's.
  if (view.bytes() >= 2048) {
    std::array<std::byte, 1024> probe;
    TORN_RETURN_IF_ERROR(view.Read(1024, probe).with_context("block roles: read the super block"));
  }
  SectorSet record;
  view.RecordInto(&record);
  RecordingGuard guard{view};

  // e2fsck's flags (unix.c): 64-bit bitmaps, MMP not started (a read-only check never starts it).
  // Checksums are verified while opening: a super block whose checksum fails sends e2fsck to a backup.
  Result<Ext2Fs> opened = OpenExt2(view, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP);
  if (!opened.ok()) return Incomplete(std::move(roles), view, opened.status().message());
  ext2_filsys fs = opened->get();
  roles.block_size = fs->blocksize;
  roles.blocks = ext2fs_blocks_count(fs->super);
  // unix.c: when ext2fs_check_desc fails, e2fsck says "Group descriptors look bad... trying backup
  // blocks" and checks the file system through a backup group's descriptors instead.
  if (errcode_t err = ext2fs_check_desc(fs))
    return Incomplete(std::move(roles), view,
                      "the group descriptors fail ext2fs_check_desc (e2fsck would use a backup): " +
                          Ext2Error(err));
  // From here e2fsck reads past checksum errors (pass 1 sets the flag around every block-map walk
  // and treats a bad inode checksum as a problem to report, not a reason to skip the inode).
  fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;

  roles::Walk walk(fs, options);
  bool ok = walk.StaticMetadata() && walk.ReadFiles() && walk.Journal() && walk.ScanInodes() &&
            walk.Orphans() && walk.Leftovers();
  roles.inodes_walked = walk.inodes_walked();
  if (!ok) return Incomplete(std::move(roles), view, walk.why());

  // What the walk read is metadata too; claimed last, so it names only blocks nothing else claims as
  // metadata.
  const uint64_t per_block = fs->blocksize / kSector;
  for (const auto& [first, end] : record.ranges()) {
    uint64_t b0 = first / per_block, b1 = (end + per_block - 1) / per_block;
    if (b0 < roles.blocks) walk.claims().push_back({b0, std::min(b1, roles.blocks) - b0, Role::kRead, 0});
  }
  roles.extents = roles::ResolveClaims(walk.claims(), roles.blocks);
  for (const BlockExtent& e : roles.extents)
    if (IsMetadata(e.role)) roles.metadata.Add(e.first * per_block, e.count * per_block);
  for (const auto& [first, end] : record.ranges()) roles.metadata.Add(first, end - first);
  roles.complete = true;
  return roles;
}

Role BlockRoles::RoleOf(uint64_t block) const {
  auto it = std::upper_bound(extents.begin(), extents.end(), block,
                             [](uint64_t b, const BlockExtent& e) { return b < e.first; });
  if (it == extents.begin()) return Role::kUnreferenced;
  --it;
  return block < it->first + it->count ? it->role : Role::kUnreferenced;
}

uint64_t BlockRoles::BlocksWithRole(Role r) const {
  uint64_t n = 0;
  for (const BlockExtent& e : extents)
    if (e.role == r) n += e.count;
  return n;
}

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kUnreferenced: return "unreferenced";
    case Role::kRegularData: return "regular file data";
    case Role::kJournalLog: return "journal log (empty journal)";
    case Role::kSuperBlock: return "super block";
    case Role::kGroupDescriptors: return "group descriptors";
    case Role::kBlockBitmap: return "block bitmap";
    case Role::kInodeBitmap: return "inode bitmap";
    case Role::kInodeTable: return "inode table";
    case Role::kMmp: return "MMP block";
    case Role::kJournalSuper: return "journal super block";
    case Role::kJournalMetadata: return "journal log (in use)";
    case Role::kTreeBlock: return "extent tree or indirect block";
    case Role::kXattrBlock: return "xattr block";
    case Role::kDirectory: return "directory block";
    case Role::kSymlink: return "symlink block";
    case Role::kSpecialData: return "special inode data";
    case Role::kReadFileData: return "data of a file read by the caller";
    case Role::kRead: return "read by the walk";
  }
  return "unknown";
}

}  // namespace torn::ext4
