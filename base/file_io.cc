#include "base/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/interrupt.h"

namespace torn {

Result<std::string> ReadFileToString(const std::string& path) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  std::string out;
  std::vector<std::byte> buf(1 << 16);
  for (;;) {
    auto n = ReadSome(fd.get(), buf);
    if (!n.ok()) return n.status().with_context(path);
    if (*n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());  // unique: writers may race
  {
    TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    Status st = WriteFull(fd.get(), std::as_bytes(std::span(data.data(), data.size())));
    if (!st.ok()) return st.with_context(tmp);
    if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + tmp, errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename " + tmp, errno);
  return Status::Ok();
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT, 0644));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoError("lock " + path, errno);
    TORN_RETURN_IF_ERROR(CheckInterrupted());
  }
  FileLock lock;
  lock.fd_ = std::move(fd);
  return lock;
}

}  // namespace torn
