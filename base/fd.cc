#include "base/fd.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace torn {

Status ErrnoError(const std::string& what, int err) {
  return IoError(what + ": " + std::strerror(err));
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(path, errno);
  return UniqueFd(fd);
}

Status PreadFull(int fd, std::span<std::byte> out, uint64_t offset) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read at byte " + std::to_string(offset + done), errno);
    }
    if (n == 0) {
      return Truncated("file ends at byte " + std::to_string(offset + done) + ", needed " +
                       std::to_string(out.size()) + " bytes at byte " + std::to_string(offset));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PwriteFull(int fd, std::span<const std::byte> data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write at byte " + std::to_string(offset + done), errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<size_t> ReadSome(int fd, std::span<std::byte> out) {
  for (;;) {
    ssize_t n = ::read(fd, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoError("read", errno);
  }
}

Status WriteFull(int fd, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<uint64_t> FileSize(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError("fstat", errno);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) return ErrnoError("BLKGETSIZE64", errno);
    return bytes;
  }
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace torn
