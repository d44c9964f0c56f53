// Temporary files and directories owned by RAII: removed when the owner goes away, including when an
// interrupt unwinds the stack. Created under $TMPDIR (default /tmp) unless a directory is given.
//
// A process killed with SIGKILL cannot remove its own, and crash-state images are tens of MiB in
// /dev/shm (memory). So every name carries its creator's pid, PREFIX + "p<pid>-" + six random
// characters, and SweepStaleTemporaries removes the ones whose creator is gone.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/status.h"

namespace torn {

class TempFile {
 public:
  TempFile() = default;
  TempFile(TempFile&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)) { o.path_.clear(); }
  TempFile& operator=(TempFile&& o) noexcept;
  ~TempFile();

  // mkstemp in dir (or $TMPDIR) with the given name prefix.
  static Result<TempFile> Create(const std::string& prefix, const std::string& dir = "");
  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

class TempDir {
 public:
  TempDir() = default;
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&& o) noexcept;
  ~TempDir();

  static Result<TempDir> Create(const std::string& prefix, const std::string& dir = "");
  const std::string& path() const { return path_; }
  // Keep the directory (for a user who asked to keep artifacts).
  std::string release();

 private:
  std::string path_;
};

// An unlinked file in dir (O_TMPFILE where supported): space on disk, gone when the fd closes.
Result<UniqueFd> AnonymousFile(const std::string& dir = "");

std::string TempRoot();  // $TMPDIR or /tmp

// Removes the entries of `dir` named "torn-…p<pid>-XXXXXX" (as Create makes them) whose process no
// longer exists. Returns how many it removed; never fails (a sweep is housekeeping).
size_t SweepStaleTemporaries(const std::string& dir);

}  // namespace torn
