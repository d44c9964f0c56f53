// The class key of a crash state: a digest of what decides its verdicts, computed in process from its
// image, without e2fsck. States with equal keys get the same fsck, mount and data verdicts, so torn
// judges one state per key (docs/checker.md, "Classes", has the argument in full).
//
// What goes into the key (XXH3-128 over, in this order):
//   1. what journal recovery concluded (ext4/recovery.h): outcome, error, failed commit;
//   2. the state's own bytes that recovery read before it wrote there (the super block, the group
//      descriptors, the journal inode and its block map, the journal super block, the committed part
//      of the log, the first fast-commit block): e2fsck and the kernel read them before replaying and
//      act on them (a bad checksum, the error fields a kernel keeps across replay, what it replays);
//      not the log past its committed part, which the scan reads only to find where the log ends;
//   3. the recovered image's metadata (ext4/block_roles.h): every sector e2fsck or the kernel reads,
//      with the super block fields e2fsck stamps from the clock (ext4::kStampedSuperFields) left out,
//      and the set of those sectors itself;
//   4. the data oracle's rule for the state (KeyOptions::data_key); the data of the files it reads are
//      metadata by (3) (KeyOptions::read_files).
// Left out, by design: regular-file data, unreferenced blocks, the journal's log once recovery has
// emptied it, and the log past its committed part before recovery (its whole effect is where the scan
// stopped: 1, and the journal super block recovery writes, in 3).
//
// A state recovery does not emulate, or whose recovered image the walk cannot finish, is not reduced:
// its key is its raw image's digest (with the data rule), so it shares verdicts only with identical
// images, as without classes.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext4/block_roles.h"
#include "ext4/image_view.h"
#include "ext4/recovery.h"

namespace torn::classes {

struct ClassKey {
  uint64_t hi = 0, lo = 0;
  auto operator<=>(const ClassKey&) const = default;
  std::string Hex() const;  // 32 hex digits
  static std::optional<ClassKey> FromHex(std::string_view hex);
};

struct KeyOptions {
  std::vector<std::string> read_files;  // the data oracle's files (data::DataRule), from the root
  int data_key = 0;                     // oracles::DataPlan::Applies::key() of the state
  uint64_t raw_digest = 0;              // models::ImageDigest of the state's image (unreduced key)
};

struct Analysis {
  bool reduced = false;         // the key is a class key; false: the raw image's (why_not says why)
  std::string why_not;
  ClassKey key;
  ext4::RecoveryResult recovery;
  ext4::SectorSet pre_reads;    // sectors of the state's image that recovery read
  ext4::SectorSet overwritten;  // sectors recovery writes
  ext4::SectorSet journal;      // sectors of the journal inode's blocks
  ext4::SectorSet log_tail;     // sectors of the log's blocks outside its committed part
  ext4::BlockRoles roles;       // of the recovered image
};

// Analyzes the image `view` reads (its overlay must be empty: it is replaced by recovery's writes, so
// that afterwards the view reads as the recovered image).
Result<Analysis> Analyze(ext4::ImageView& view, const KeyOptions& options);

// The key of a state that is not reduced.
ClassKey RawKey(uint64_t raw_digest, int data_key);

}  // namespace torn::classes
