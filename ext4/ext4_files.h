// Reading files and directories out of an ext4 image with libext2fs, read-only, for the data oracle.
// The image is read as it is: run it after journal replay (the fsck oracle's scratch copy) so that
// committed transactions are in place. Nothing here writes to the image. CopyOut extracts a file
// (torn gate: the backing file of a loop device, an inner file system) without mounting anything.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace torn::ext4 {

struct FileFacts {
  enum class Kind { kMissing, kRegular, kDirectory, kOther };
  Kind kind = Kind::kMissing;
  uint64_t size = 0;
  std::string md5;       // lowercase hex, regular files only
  std::string error;     // libext2fs's complaint when the path could not be looked up or read
};

// An ext4 file system opened read-only; closed by the destructor.
class Ext4Image {
 public:
  // kBadInput when libext2fs cannot open it (no super block, bad group descriptors...): for the data
  // oracle that is a finding about the image, reported as such by the caller.
  static Result<Ext4Image> Open(const std::string& path);
  Ext4Image(Ext4Image&&) noexcept;
  Ext4Image& operator=(Ext4Image&&) = delete;
  ~Ext4Image();

  // path relative to the root ("p/q/blob"; "." or "" is the root). Never fails as a whole: a lookup or
  // read error is reported in FileFacts::error with kind kMissing (lookup) or the file's kind (read).
  FileFacts Stat(const std::string& path, bool with_md5) const;

  // Copies the regular file at `path` out to the host file `out` (created or truncated), sparse: the
  // file's holes and unwritten extents stay holes, so `out` reads exactly as the file does and a
  // multi-megabyte disk image costs only its written blocks. kUnavailable when the path does not name a
  // regular file; kBadInput when libext2fs cannot read it (both name the path and libext2fs's error).
  Status CopyOut(const std::string& path, const std::string& out) const;

 private:
  Ext4Image() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace torn::ext4
