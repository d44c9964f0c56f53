#include "base/sparse_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/fd.h"

namespace torn {
namespace {

constexpr uint64_t kChunk = 1 << 20;

}  // namespace

Status ForEachDataExtent(int fd, uint64_t from, uint64_t to,
                         const std::function<Status(uint64_t offset, uint64_t length)>& f) {
  for (uint64_t pos = from; pos < to;) {
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole left
      return ErrnoError("lseek SEEK_DATA", errno);
    }
    if (uint64_t(data) >= to) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return ErrnoError("lseek SEEK_HOLE", errno);
    uint64_t end = std::min<uint64_t>(uint64_t(hole), to);
    TORN_RETURN_IF_ERROR(f(uint64_t(data), end - uint64_t(data)));
    pos = end;
  }
  return Status::Ok();
}

Status CopyDataRange(int src, uint64_t src_offset, int dst, uint64_t dst_offset, uint64_t length) {
  std::vector<std::byte> buf;
  return ForEachDataExtent(src, src_offset, src_offset + length, [&](uint64_t off, uint64_t len) -> Status {
    loff_t in = static_cast<loff_t>(off), out = static_cast<loff_t>(dst_offset + (off - src_offset));
    const uint64_t stop = off + len;
    while (uint64_t(in) < stop) {
      ssize_t n = ::copy_file_range(src, &in, dst, &out, stop - uint64_t(in), 0);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return IoError("copy_file_range: the source ended early");
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return ErrnoError("copy_file_range", errno);
      // A file system pair copy_file_range refuses: plain reads and writes.
      buf.resize(kChunk);
      size_t m = size_t(std::min<uint64_t>(buf.size(), stop - uint64_t(in)));
      TORN_RETURN_IF_ERROR(PreadFull(src, std::span(buf.data(), m), uint64_t(in)));
      TORN_RETURN_IF_ERROR(PwriteFull(dst, std::span(buf.data(), m), uint64_t(out)));
      in += loff_t(m);
      out += loff_t(m);
    }
    return Status::Ok();
  });
}

// dst's pages are overwritten in place and its extra data is punched out, rather than dst truncated
// to zero and filled again: on tmpfs, freeing and allocating every page of a 30 MiB image per copy
// was a tenth of a check's time.
Status SparseCopy(int src, int dst, uint64_t bytes) {
  struct stat st;
  if (::fstat(dst, &st) != 0) return ErrnoError("stat the copy", errno);
  if (uint64_t(st.st_size) != bytes && ::ftruncate(dst, static_cast<off_t>(bytes)) != 0)
    return ErrnoError("size the copy", errno);
  uint64_t done = 0;  // dst matches src on [0, done)
  auto punch = [&](uint64_t from, uint64_t to) -> Status {
    if (to <= from || ::fallocate(dst, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                                  static_cast<off_t>(to - from)) == 0)
      return Status::Ok();
    if (errno != EOPNOTSUPP) return ErrnoError("punch a hole in the copy", errno);
    static const std::vector<std::byte> kZeros(kChunk);  // a file system without holes
    for (uint64_t pos = from; pos < to; pos += kChunk)
      TORN_RETURN_IF_ERROR(PwriteFull(dst, std::span(kZeros.data(), std::min(kChunk, to - pos)), pos));
    return Status::Ok();
  };
  TORN_RETURN_IF_ERROR(ForEachDataExtent(src, 0, bytes, [&](uint64_t off, uint64_t len) -> Status {
    TORN_RETURN_IF_ERROR(punch(done, off));
    TORN_RETURN_IF_ERROR(CopyDataRange(src, off, dst, off, len));
    done = off + len;
    return Status::Ok();
  }));
  return punch(done, bytes);
}

}  // namespace torn
