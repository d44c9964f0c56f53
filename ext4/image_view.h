// ImageView: read access to an image file with an overlay of sectors that replace its bytes, and a
// record of what was read. Nothing here writes to the file.
//
// Why: the class key of a crash state (classes/) is computed in process, without e2fsck. The journal
// recovery (recovery.h) reads the state's image through a view and says what it would write; those
// writes become the view's overlay, and the block-roles walk (block_roles.h) reads the recovered image
// through the same view with libext2fs (ext2_view.h). The record of reads is what the class proofs
// stand on: an analysis that reads an image only through a view, and depends only on what it read,
// gives the same answer on every image that agrees with this one on the recorded sectors.
//
// Units: the overlay and the record are kept in 512-byte sectors (kSector) whatever the log's sector
// size; offsets and lengths are bytes, 64-bit. Reads past the image's end are an error (kBadInput):
// a file system that points outside its device is a finding, not a crash of torn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "base/status.h"

namespace torn::ext4 {

inline constexpr uint64_t kSector = 512;

// A set of sector ranges [first, first + count), kept sorted and merged.
class SectorSet {
 public:
  void Add(uint64_t first, uint64_t count);
  void AddBytes(uint64_t offset, uint64_t length);  // every sector the byte range touches
  bool Contains(uint64_t sector) const;
  bool Intersects(uint64_t first, uint64_t count) const;
  void Clear() { ranges_.clear(); }
  bool empty() const { return ranges_.empty(); }
  uint64_t sectors() const;  // how many sectors the set holds
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }  // first -> end (exclusive)

 private:
  std::map<uint64_t, uint64_t> ranges_;
};

class ImageView {
 public:
  // `fd` is not owned and must outlive the view; `bytes` is the image's size.
  ImageView(int fd, uint64_t bytes) : fd_(fd), bytes_(bytes) {}

  uint64_t bytes() const { return bytes_; }

  // The image's bytes with the overlay on top. Records the sectors read while recording.
  Status Read(uint64_t offset, std::span<std::byte> out);
  // The same, never recorded: for a look that decides nothing (e.g. whether a write changes a block).
  Status ReadUnrecorded(uint64_t offset, std::span<std::byte> out);
  // Replaces bytes of the image in the view (not in the file); must be sector-aligned.
  void Put(uint64_t offset, std::span<const std::byte> bytes);
  // Forgets the overlay.
  void ClearOverlay() { overlay_.clear(); }
  // The overlay, sector -> 512 bytes, for callers that hash or write it.
  const std::map<uint64_t, std::vector<std::byte>>& overlay() const { return overlay_; }

  // Recording: every sector Read() touches from now on is added to `*into` (nullptr: stop). With
  // `file_only`, only the sectors the file supplies (not the overlay): what an analysis that writes
  // to the overlay as it goes (journal recovery) read of the image before it wrote there.
  void RecordInto(SectorSet* into, bool file_only = false) {
    record_ = into;
    file_only_ = file_only;
  }
  SectorSet* recording() const { return record_; }
  bool recording_file_only() const { return file_only_; }

 private:
  int fd_;
  uint64_t bytes_;
  std::map<uint64_t, std::vector<std::byte>> overlay_;
  SectorSet* record_ = nullptr;
  bool file_only_ = false;
};

}  // namespace torn::ext4
