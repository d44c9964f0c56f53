#include "checker/state_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "checker/undo_file.h"
#include "models/digest.h"
#include "replayer/apply.h"

namespace torn::checker {

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
// the bytes before e2fsck (the earliest region wins where regions overlap: it was saved first).
Result<std::optional<std::vector<StateImage::Run>>> StateImage::Runs() {
  auto record = ReadUndoFile(undo_.path());
  using Out = std::optional<std::vector<Run>>;
  if (!record.ok() || !record->finished) return Out();
  const auto& regions = record->regions;
  const uint64_t ss = log_->sectorsize();
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // sectors [first, second)
  for (const UndoRegion& r : regions) {
    if (r.offset + r.bytes.size() > bytes_) return Out();
    spans.emplace_back(r.offset / ss, (r.offset + r.bytes.size() + ss - 1) / ss);
  }
  std::sort(spans.begin(), spans.end());
  std::vector<Run> runs;
  for (size_t i = 0; i < spans.size();) {
    auto [a, b] = spans[i];
    for (++i; i < spans.size() && spans[i].first <= b; ++i) b = std::max(b, spans[i].second);
    Run run;
    run.offset = a * ss;
    const uint64_t end = b * ss;
    run.now.resize(end - run.offset);
    TORN_RETURN_IF_ERROR(PreadFull(image_->fd(), run.now, run.offset).with_context(path()));
    run.before = run.now;
    for (auto r = regions.rbegin(); r != regions.rend(); ++r) {
      uint64_t x = std::max(run.offset, r->offset), y = std::min(end, r->offset + r->bytes.size());
      if (x < y) std::memcpy(run.before.data() + (x - run.offset), r->bytes.data() + (x - r->offset), y - x);
    }
    runs.push_back(std::move(run));
  }
  return std::optional<std::vector<Run>>(std::move(runs));
}

// Moves the state's digest to the image's by swapping the terms of the sectors that differ.
Result<std::optional<uint64_t>> StateImage::DigestAsLeft() {
  TORN_ASSIGN_OR_RETURN(auto runs, Runs());
  if (!runs) return std::optional<uint64_t>();
  const uint64_t ss = log_->sectorsize();
  uint64_t digest = image_->digest();
  for (const Run& run : *runs) {
    for (uint64_t k = 0; k < run.now.size(); k += ss) {
      std::span<const std::byte> was(run.before.data() + k, ss), is(run.now.data() + k, ss);
      if (std::memcmp(was.data(), is.data(), ss) == 0) continue;
      uint64_t sector = (run.offset + k) / ss;
      digest += models::Term(sector, models::SectorHash(is)) - models::Term(sector, models::SectorHash(was));
    }
  }
  return std::optional<uint64_t>(digest);
}

Status StateImage::Restore() {
  TORN_ASSIGN_OR_RETURN(auto runs, Runs());
  if (::ftruncate(undo_.fd(), 0) != 0) return ErrnoError(undo_.path() + ": empty the undo file", errno);
  if (!runs) {
    image_->Invalidate();
    ++stats_.rebuilds;
    return Status::Ok();
  }
  for (const Run& run : *runs) {
    TORN_RETURN_IF_ERROR(PwriteFull(image_->fd(), run.before, run.offset).with_context(path()));
    stats_.bytes += run.before.size();
  }
  if (!runs->empty()) ++stats_.restores;
  return Status::Ok();
}

}  // namespace torn::checker
