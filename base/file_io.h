// Whole small files as strings, written atomically, and an advisory lock on a file, owned by RAII.
//   ReadFileToString   the file's bytes; the error names the path
//   WriteFileAtomic    writes PATH.tmp.PID, fsyncs it, renames it over PATH: readers see the old or the
//                      new content, never a half
//   FileLock           flock(LOCK_EX) on PATH (created if missing) until the owner goes away; used to
//                      serialize torn processes sharing a cache
#pragma once

#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/status.h"

namespace torn {

Result<std::string> ReadFileToString(const std::string& path);
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);

class FileLock {
 public:
  FileLock() = default;
  // Blocks until the lock is ours (EINTR from an interrupt returns kInterrupted).
  static Result<FileLock> Acquire(const std::string& path);

 private:
  UniqueFd fd_;
};

}  // namespace torn
