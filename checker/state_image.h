// A crash state's image, built for the oracles. Until the models branch's incremental Materializer is
// merged, this is the from-scratch path with one shortcut that keeps it cheap:
//   - each worker keeps a base image holding the content entries [0, base_end) of the segment it is
//     in, advanced by applying only the entries between the old and the new base (segments come in
//     increasing order; a step back rebuilds it from zero);
//   - a state's image is a sparse copy of the base (SEEK_DATA/SEEK_HOLE, so holes stay holes) plus the
//     state's durable window entries in log order, through replayer/apply.h's ApplyEntry (torn writes:
//     only the sectors that landed).
// The copy is the scratch image the oracles may modify (journal replay writes to it). Images live in
// a directory of the caller's choosing (/dev/shm by default).
//
// ImageDigest: a content digest independent of how the file is laid out: XXH3 over (offset, bytes) of
// every 4 KiB block that is not all zeros, then the size. Two images with the same bytes have the same
// digest whether their zeros are holes or written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/temp_file.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::checker {

// The size an image of this trace needs: every write, and the whole ext4 file system when the trace
// writes a super block. `device_bytes` (from trace.json) wins when given.
uint64_t ImageBytes(const trace::Log& log, uint64_t device_bytes);

Result<uint64_t> ImageDigest(int fd, uint64_t bytes);

// Makes dst's first `bytes` equal to src's: src's data copied over dst's pages, every other range of
// dst punched to a hole (zeros where the file system has no holes); dst is sized to `bytes`.
Status SparseCopy(int src, int dst, uint64_t bytes);

class StateImages {
 public:
  static Result<StateImages> Create(const trace::Log& log, uint64_t bytes, const std::string& dir);
  // Writes the state's image into the scratch file.
  Status Build(const models::CrashState& state);
  // A second copy of the last built state (for an oracle that needs the image before another one
  // modified the scratch copy, such as a kernel mount after e2fsck's journal replay).
  Status CopyScratchTo(int fd) const { return SparseCopy(scratch_.fd(), fd, bytes_); }
  const std::string& scratch_path() const { return scratch_.path(); }
  int scratch_fd() const { return scratch_.fd(); }
  uint64_t bytes() const { return bytes_; }
  const std::string& dir() const { return dir_; }

 private:
  Status AdvanceBase(size_t base_end);
  const trace::Log* log_ = nullptr;
  uint64_t bytes_ = 0;
  std::string dir_;
  TempFile base_, scratch_;
  size_t base_end_ = 0;
  std::vector<std::byte> buf_;
};

}  // namespace torn::checker
