// A crash state's image, for the oracles. Each worker owns one image file that moves from state to
// state through the replayer's Materializer: only the sectors that differ from the previous state are
// written, and the image's content digest (models/digest.h, the one definition of "same image" in
// torn) is kept up to date as it moves, so no state costs a copy or a full read of the image.
//
// The oracles may write to the image: e2fsck's journal replay does. The fsck oracle therefore runs
// e2fsck with an undo file (FsckOptions::undo_file = undo_path()), and Restore() puts back the blocks
// e2fsck changed, with the old bytes e2fsck itself saved (undo_file.h): the image is the state's again
// and the next move starts from known bytes. When e2fsck's record cannot be trusted (it hung or
// crashed, the undo file is incomplete or damaged), the image is rebuilt from zero on the next move
// instead: slower, never wrong.
//
// Images live in a directory of the caller's choosing (/dev/shm by default), removed on destruction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/sparse_file.h"
#include "base/status.h"
#include "base/temp_file.h"
#include "models/model.h"
#include "replayer/materializer.h"
#include "trace/log.h"

namespace torn::checker {

// The size an image of this trace needs: every write, and the whole ext4 file system when the trace
// writes a super block. `device_bytes` (from trace.json) wins when given.
uint64_t ImageBytes(const trace::Log& log, uint64_t device_bytes);

struct RestoreStats {
  uint64_t restores = 0;      // Restore calls that put bytes back
  uint64_t bytes = 0;         // bytes put back
  uint64_t rebuilds = 0;      // images given up and rebuilt from zero (an untrusted undo record)
};

class StateImage {
 public:
  static Result<StateImage> Create(const trace::Log& log, uint64_t bytes, const std::string& dir);

  // Puts `state` on the image (`segment`: see Materializer::MoveTo). The image must be restored.
  Status MoveTo(const models::CrashState& state, const models::Segment* segment = nullptr);
  // models::ImageDigest of the state's image.
  uint64_t digest() const { return image_->digest(); }

  // Where an oracle's e2fsck keeps its undo record (empty until e2fsck writes).
  const std::string& undo_path() const { return undo_.path(); }
  // The digest of the image as the oracles have left it so far (e.g. after journal replay), from the
  // state's digest and e2fsck's record; nullopt when the record cannot be trusted.
  Result<std::optional<uint64_t>> DigestAsLeft();
  // Puts the state's bytes back after the oracles (or, with an untrusted record, makes the next move
  // rebuild the image from zero).
  Status Restore();

  // A copy of the image as it is now (for an oracle that must not write to this one).
  Status CopyTo(int fd) const { return SparseCopy(image_->fd(), fd, bytes_); }

  const std::string& path() const { return file_.path(); }
  int fd() const { return image_->fd(); }  // the image, for reading it in process (ext4::ImageView)
  uint64_t bytes() const { return bytes_; }
  const std::string& dir() const { return dir_; }
  const RestoreStats& restore_stats() const { return stats_; }
  const replay::MaterializerStats& materializer_stats() const { return image_->stats(); }

  struct Run {  // sectors e2fsck wrote, merged: their offset, bytes now, bytes before e2fsck
    uint64_t offset = 0;
    std::vector<std::byte> now, before;
  };
  // The runs of e2fsck's record (read once per state); nullopt when the record is untrusted.
  Result<std::optional<std::vector<Run>>> Runs();

 private:


  const trace::Log* log_ = nullptr;
  uint64_t bytes_ = 0;
  std::string dir_;
  TempFile file_, undo_;
  std::optional<replay::Materializer> image_;
  RestoreStats stats_;
};

}  // namespace torn::checker
