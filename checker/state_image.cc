#include "checker/state_image.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "checker/undo_file.h"
#include "models/digest.h"
#include "replayer/apply.h"

namespace torn::checker {
namespace {

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

Result<StateImage> StateImage::Create(const trace::Log& log, uint64_t bytes, const std::string& dir) {
  StateImage s;
  s.log_ = &log;
  s.bytes_ = bytes;
  s.dir_ = dir;
  TORN_ASSIGN_OR_RETURN(s.file_, TempFile::Create("torn-state-", dir));
  TORN_ASSIGN_OR_RETURN(s.undo_, TempFile::Create("torn-undo-", dir));
  TORN_ASSIGN_OR_RETURN(replay::Materializer m,
                        replay::Materializer::Open(log, s.file_.path(), {.device_bytes = bytes}));
  s.image_.emplace(std::move(m));
  return s;
}

Status StateImage::MoveTo(const models::CrashState& state, const models::Segment* segment) {
  return image_->MoveTo(state, segment);
}

// The sectors e2fsck's regions cover, merged into runs; for each run the bytes now on the image and
// the bytes before e2fsck (the earliest region wins where regions overlap). The digest moves from the
// state's to the image's as e2fsck left it by swapping the terms of the sectors that differ.
Result<std::optional<uint64_t>> StateImage::Restore() {
  auto record = ReadUndoFile(undo_.path());
  if (::ftruncate(undo_.fd(), 0) != 0) return ErrnoError(undo_.path() + ": empty the undo file", errno);
  auto give_up = [&]() -> std::optional<uint64_t> {
    image_->Invalidate();
    ++stats_.rebuilds;
    return std::nullopt;
  };
  if (!record.ok() || !record->finished) return give_up();
  const auto& regions = record->regions;
  uint64_t digest = image_->digest();
  if (regions.empty()) return std::optional<uint64_t>(digest);
  const uint64_t ss = log_->sectorsize();
  std::vector<std::pair<uint64_t, uint64_t>> runs;  // sectors [first, second)
  for (const UndoRegion& r : regions) {
    if (r.offset + r.bytes.size() > bytes_) return give_up();
    runs.emplace_back(r.offset / ss, (r.offset + r.bytes.size() + ss - 1) / ss);
  }
  std::sort(runs.begin(), runs.end());
  size_t n = 0;
  for (const auto& run : runs) {
    if (n > 0 && run.first <= runs[n - 1].second) runs[n - 1].second = std::max(runs[n - 1].second, run.second);
    else runs[n++] = run;
  }
  runs.resize(n);
  std::vector<std::byte> now, before;
  for (const auto& [a, b] : runs) {
    const uint64_t lo = a * ss, hi = b * ss;
    now.resize(hi - lo);
    TORN_RETURN_IF_ERROR(PreadFull(image_->fd(), now, lo).with_context(path()));
    before = now;
    for (auto r = regions.rbegin(); r != regions.rend(); ++r) {
      uint64_t x = std::max(lo, r->offset), y = std::min(hi, r->offset + r->bytes.size());
      if (x < y) std::memcpy(before.data() + (x - lo), r->bytes.data() + (x - r->offset), y - x);
    }
    for (uint64_t s = a; s < b; ++s) {
      std::span<const std::byte> was(before.data() + (s - a) * ss, ss), is(now.data() + (s - a) * ss, ss);
      if (std::memcmp(was.data(), is.data(), ss) == 0) continue;
      digest += models::Term(s, models::SectorHash(is)) - models::Term(s, models::SectorHash(was));
    }
    TORN_RETURN_IF_ERROR(PwriteFull(image_->fd(), before, lo).with_context(path()));
    stats_.bytes += before.size();
  }
  ++stats_.restores;
  return std::optional<uint64_t>(digest);
}

}  // namespace torn::checker
