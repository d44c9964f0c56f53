// UniqueFd and whole-buffer I/O: every file descriptor in torn is owned by a UniqueFd, opened
// close-on-exec, and read or written through the *_full helpers, which retry short transfers and EINTR.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"

namespace torn {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC; the error names the path.
Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode = 0644);

// Read exactly out.size() bytes at offset; kTruncated if the file ends first.
Status PreadFull(int fd, std::span<std::byte> out, uint64_t offset);
Status PwriteFull(int fd, std::span<const std::byte> data, uint64_t offset);
// Sequential variants for pipes and streams. ReadSome returns 0 only at end of file.
Result<size_t> ReadSome(int fd, std::span<std::byte> out);
Status WriteFull(int fd, std::span<const std::byte> data);

// Size in bytes of a regular file or a block device.
Result<uint64_t> FileSize(int fd);

}  // namespace torn
