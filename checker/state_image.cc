#include "checker/state_image.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "replayer/apply.h"

namespace torn::checker {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kChunk = 1 << 20;

// Calls f(offset, length) for each data extent of [0, bytes).
template <typename F>
Status ForEachDataExtent(int fd, uint64_t bytes, F f) {
  uint64_t pos = 0;
  while (pos < bytes) {
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole left
      return ErrnoError("lseek SEEK_DATA", errno);
    }
    if (uint64_t(data) >= bytes) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return ErrnoError("lseek SEEK_HOLE", errno);
    uint64_t end = std::min<uint64_t>(uint64_t(hole), bytes);
    TORN_RETURN_IF_ERROR(f(uint64_t(data), end - uint64_t(data)));
    pos = end;
  }
  return Status::Ok();
}

}  // namespace

uint64_t ImageBytes(const trace::Log& log, uint64_t device_bytes) {
  if (device_bytes) return device_bytes;
  uint64_t bytes = log.max_byte_touched();
  // The last write holding a whole ext4 super block: the file system may extend past every write.
  std::vector<std::byte> buf;
  for (size_t i = log.size(); i-- > 0;) {
    const trace::Entry& e = log.entry(i);
    uint64_t a = log.entry_byte_offset(i), b = a + log.entry_bytes(i);
    if (!e.has_data() || a > 1024 || b < 2048) continue;
    buf.assign(log.entry_bytes(i), std::byte{0});
    if (!log.ReadData(i, buf).ok()) break;
    // Ext4Bytes reads the super block through an fd: give it one over these bytes.
    auto fd = AnonymousFile();
    if (!fd.ok() || !PwriteFull(fd->get(), buf, a).ok()) break;
    if (auto fs = replay::Ext4Bytes(fd->get())) {
      bytes = std::max(bytes, *fs);
      break;
    }
  }
  return bytes;
}

Result<uint64_t> ImageDigest(int fd, uint64_t bytes) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  XXH3_64bits_reset(st.get());
  std::vector<std::byte> buf(kChunk);
  static const std::vector<std::byte> kZero(kBlock);
  TORN_RETURN_IF_ERROR(ForEachDataExtent(fd, bytes, [&](uint64_t off, uint64_t len) -> Status {
    // Align to 4 KiB blocks so that the same bytes hash the same whatever the extents are.
    uint64_t a = off / kBlock * kBlock, b = std::min(bytes, (off + len + kBlock - 1) / kBlock * kBlock);
    for (uint64_t pos = a; pos < b;) {
      uint64_t n = std::min<uint64_t>(kChunk, b - pos);
      TORN_RETURN_IF_ERROR(PreadFull(fd, std::span(buf.data(), n), pos));
      for (uint64_t k = 0; k < n; k += kBlock) {
        uint64_t m = std::min(kBlock, n - k);
        // memcmp, not std::equal: the byte loop std::equal compiles to was 17% of a check's time.
        if (std::memcmp(buf.data() + k, kZero.data(), m) == 0) continue;
        uint64_t where = pos + k;
        XXH3_64bits_update(st.get(), &where, sizeof where);
        XXH3_64bits_update(st.get(), buf.data() + k, m);
      }
      pos += n;
    }
    return Status::Ok();
  }));
  XXH3_64bits_update(st.get(), &bytes, sizeof bytes);
  return uint64_t(XXH3_64bits_digest(st.get()));
}

// dst's pages are overwritten in place and its extra data is punched out, rather than dst truncated
// to zero and filled again: on tmpfs, freeing and allocating every page of a 30 MiB image per state
// was a tenth of a check's time.
Status SparseCopy(int src, int dst, uint64_t bytes) {
  struct stat st;
  if (::fstat(dst, &st) != 0) return ErrnoError("stat the scratch image", errno);
  if (uint64_t(st.st_size) != bytes && ::ftruncate(dst, static_cast<off_t>(bytes)) != 0)
    return ErrnoError("size the scratch image", errno);
  uint64_t done = 0;  // dst matches src on [0, done)
  auto punch = [&](uint64_t from, uint64_t to) -> Status {
    if (to <= from || ::fallocate(dst, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                                  static_cast<off_t>(to - from)) == 0)
      return Status::Ok();
    if (errno != EOPNOTSUPP) return ErrnoError("punch a hole in the scratch image", errno);
    static const std::vector<std::byte> kZeros(kChunk);  // a --scratch file system without holes
    for (uint64_t pos = from; pos < to; pos += kChunk)
      TORN_RETURN_IF_ERROR(PwriteFull(dst, std::span(kZeros.data(), std::min(kChunk, to - pos)), pos));
    return Status::Ok();
  };
  TORN_RETURN_IF_ERROR(ForEachDataExtent(src, bytes, [&](uint64_t off, uint64_t len) -> Status {
    TORN_RETURN_IF_ERROR(punch(done, off));
    loff_t in = static_cast<loff_t>(off), out = static_cast<loff_t>(off);
    uint64_t left = len;
    while (left > 0) {
      ssize_t n = ::copy_file_range(src, &in, dst, &out, left, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("copy_file_range", errno);
      }
      if (n == 0) return IoError("copy_file_range: the source image ended early");
      left -= uint64_t(n);
    }
    done = off + len;
    return Status::Ok();
  }));
  return punch(done, bytes);
}

Result<StateImages> StateImages::Create(const trace::Log& log, uint64_t bytes, const std::string& dir) {
  StateImages s;
  s.log_ = &log;
  s.bytes_ = bytes;
  s.dir_ = dir;
  TORN_ASSIGN_OR_RETURN(s.base_, TempFile::Create("torn-base-", dir));
  TORN_ASSIGN_OR_RETURN(s.scratch_, TempFile::Create("torn-state-", dir));
  if (::ftruncate(s.base_.fd(), static_cast<off_t>(bytes)) != 0)
    return ErrnoError(s.base_.path() + ": size the image", errno);
  return s;
}

Status StateImages::AdvanceBase(size_t base_end) {
  replay::Target t{base_.fd(), false, bytes_};
  if (base_end < base_end_) {
    if (::ftruncate(base_.fd(), 0) != 0 || ::ftruncate(base_.fd(), static_cast<off_t>(bytes_)) != 0)
      return ErrnoError(base_.path() + ": reset", errno);
    base_end_ = 0;
  }
  for (size_t i = base_end_; i < base_end; ++i) TORN_RETURN_IF_ERROR(replay::ApplyEntry(*log_, i, t, buf_));
  base_end_ = base_end;
  return Status::Ok();
}

Status StateImages::Build(const models::CrashState& state) {
  TORN_RETURN_IF_ERROR(AdvanceBase(state.base_end));
  TORN_RETURN_IF_ERROR(SparseCopy(base_.fd(), scratch_.fd(), bytes_).with_context(scratch_.path()));
  replay::Target t{scratch_.fd(), false, bytes_};
  std::vector<size_t> dropped = state.dropped;
  std::sort(dropped.begin(), dropped.end());
  for (size_t i = state.base_end; i <= state.crash_point && i < log_->size(); ++i) {
    if (std::binary_search(dropped.begin(), dropped.end(), i)) continue;
    auto torn = std::find_if(state.torn.begin(), state.torn.end(),
                             [&](const models::TornWrite& w) { return w.entry == i; });
    if (torn == state.torn.end()) {
      TORN_RETURN_IF_ERROR(replay::ApplyEntry(*log_, i, t, buf_));
      continue;
    }
    // Only the sectors that landed.
    uint32_t ss = log_->sectorsize();
    buf_.resize(log_->entry_bytes(i));
    TORN_RETURN_IF_ERROR(log_->ReadData(i, buf_));
    for (uint32_t s : torn->sectors) {
      if (uint64_t(s) * ss >= buf_.size()) return Internal("torn sector past the entry's end");
      TORN_RETURN_IF_ERROR(PwriteFull(scratch_.fd(), std::span(buf_.data() + uint64_t(s) * ss, ss),
                                      log_->entry_byte_offset(i) + uint64_t(s) * ss));
    }
  }
  return Status::Ok();
}

}  // namespace torn::checker
