#include "replayer/materializer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/block_device.h"

namespace torn::replay {
namespace {

constexpr int64_t kBaseSource = -1;

// Opens `path` as an image of the right size, zeroed: a file is truncated and sized (all holes), a
// device is zeroed.
Result<std::pair<UniqueFd, Target>> OpenZeroed(const trace::Log& log, const std::string& path,
                                               uint64_t device_bytes, bool force) {
  TORN_ASSIGN_OR_RETURN(DeviceInfo info, InspectPath(path));
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenForWriting(path, force));
  Target t{fd.get(), info.is_block, 0};
  if (info.is_block) {
    TORN_ASSIGN_OR_RETURN(t.bytes, FileSize(fd.get()));
    if (device_bytes && device_bytes != t.bytes)
      return BadInput(path + ": the image size " + std::to_string(device_bytes) +
                      " differs from the device's size " + std::to_string(t.bytes));
  } else {
    t.bytes = device_bytes ? device_bytes : log.max_byte_touched();
  }
  if (t.bytes < log.max_byte_touched())
    return BadInput(path + ": " + std::to_string(t.bytes) + " bytes cannot hold the log's writes (" +
                    std::to_string(log.max_byte_touched()) + " bytes)");
  if (info.is_block) {
    TORN_RETURN_IF_ERROR(ZeroRange(t, 0, t.bytes).with_context(path));
  } else if (::ftruncate(fd.get(), 0) != 0 || ::ftruncate(fd.get(), static_cast<off_t>(t.bytes)) != 0) {
    return ErrnoError(path + ": size the image", errno);
  }
  return std::make_pair(std::move(fd), t);
}

}  // namespace

Result<Materializer> Materializer::Open(const trace::Log& log, const std::string& path,
                                        const MaterializerOptions& options) {
  Materializer m;
  m.log_ = &log;
  m.path_ = path;
  TORN_ASSIGN_OR_RETURN(auto opened, OpenZeroed(log, path, options.device_bytes, options.force));
  m.fd_ = std::move(opened.first);
  m.target_ = opened.second;
  m.target_.fd = m.fd_.get();
  m.content_ = std::make_unique<models::ContentTracker>(log);
  return m;
}

Status Materializer::Rebuild() {
  ++stats_.rebuilds;
  if (target_.block_device) {
    TORN_RETURN_IF_ERROR(ZeroRange(target_, 0, target_.bytes).with_context(path_));
  } else if (::ftruncate(fd_.get(), 0) != 0 ||
             ::ftruncate(fd_.get(), static_cast<off_t>(target_.bytes)) != 0) {
    return ErrnoError(path_ + ": size the image", errno);
  }
  content_ = std::make_unique<models::ContentTracker>(*log_);
  return Status::Ok();
}

Status Materializer::OpenWindow(size_t base_end, size_t last) {
  if (content_->entered()) {  // back to the base: the saved bytes under every slot that differs
    content_->Clear();
    TORN_RETURN_IF_ERROR(WriteChanged());
  }
  if (base_end < content_->base_end()) TORN_RETURN_IF_ERROR(Rebuild());
  for (size_t i = content_->base_end(); i < base_end; ++i)
    TORN_RETURN_IF_ERROR(ApplyEntry(*log_, i, target_, scratch_).with_context(path_));
  TORN_RETURN_IF_ERROR(content_->Enter(base_end, last, /*keep_data=*/true));
  ++stats_.windows;
  source_.assign(content_->slot_count(), kBaseSource);
  // Save the base's bytes under the window, a run of consecutive sectors at a time.
  const uint64_t ss = log_->sectorsize();
  const size_t n = content_->slot_count();
  saved_.resize(n * ss);
  for (size_t s = 0; s < n;) {
    size_t e = s + 1;
    while (e < n && content_->slot_sector(static_cast<uint32_t>(e)) ==
                        content_->slot_sector(static_cast<uint32_t>(e - 1)) + 1)
      ++e;
    TORN_RETURN_IF_ERROR(PreadFull(fd_.get(), std::span(saved_.data() + s * ss, (e - s) * ss),
                                   content_->slot_sector(static_cast<uint32_t>(s)) * ss)
                             .with_context(path_));
    s = e;
  }
  return Status::Ok();
}

// Keeps the changed slots whose bytes do change: not those whose source is the same as before, nor
// those that held zeros and hold zeros again (hash 0 means all zeros, exactly). Groups them into runs
// with one source each (the same window write at consecutive offsets, or the saved base bytes at
// consecutive slots) and writes each run once.
Status Materializer::WriteChanged() {
  std::vector<uint32_t> slots;
  std::vector<uint64_t> was_hash;
  for (uint32_t s : content_->Changed()) slots.push_back(s);
  std::sort(slots.begin(), slots.end());
  for (uint32_t s : slots) was_hash.push_back(content_->current_hash(s));
  content_->Commit();
  size_t kept = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    uint32_t s = slots[i];
    auto w = content_->WinnerOf(s);
    int64_t source = w ? static_cast<int64_t>(content_->writes()[w->write].bit + w->offset) : kBaseSource;
    bool same = source == source_[s] || (was_hash[i] == 0 && content_->current_hash(s) == 0);
    source_[s] = source;
    if (same) {
      ++stats_.sectors_skipped;
      continue;
    }
    slots[kept++] = s;
  }
  slots.resize(kept);
  const uint64_t ss = log_->sectorsize();
  const auto& writes = content_->writes();
  for (size_t i = 0; i < slots.size();) {
    uint32_t s0 = slots[i];
    auto w0 = content_->WinnerOf(s0);
    size_t j = i + 1;
    for (; j < slots.size(); ++j) {
      uint32_t s = slots[j];
      if (s != slots[j - 1] + 1 || content_->slot_sector(s) != content_->slot_sector(s - 1) + 1) break;
      auto w = content_->WinnerOf(s);
      if (w.has_value() != w0.has_value()) break;
      if (w && (w->write != w0->write || w->offset != w0->offset + (s - s0))) break;
    }
    uint64_t count = j - i;
    if (w0) {
      const models::WindowWrite& ww = writes[w0->write];
      std::span<const std::byte> data;
      if (!ww.discard) data = content_->data(w0->write).subspan(w0->offset * ss, count * ss);
      TORN_RETURN_IF_ERROR(
          ApplyEntryPart(*log_, ww.entry, target_, w0->offset, count, data).with_context(path_));
    } else {  // the base's bytes; zeros become a hole (or a device's zeroout), not written zeros
      std::span<const std::byte> bytes(saved_.data() + s0 * ss, count * ss);
      uint64_t offset = content_->slot_sector(s0) * ss;
      bool zero = std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
      TORN_RETURN_IF_ERROR((zero ? ZeroRange(target_, offset, bytes.size())
                                 : PwriteFull(fd_.get(), bytes, offset))
                               .with_context(path_));
    }
    stats_.sectors_written += count;
    i = j;
  }
  return Status::Ok();
}

Status Materializer::MoveTo(const models::CrashState& state, const models::Segment* segment) {
  ++stats_.states;
  if (invalid_) {
    TORN_RETURN_IF_ERROR(Rebuild());
    invalid_ = false;
  }
  size_t last = state.crash_point;
  if (segment && segment->base_end == state.base_end) last = std::max(last, segment->last);
  bool same_window = content_->entered() && content_->base_end() == state.base_end &&
                     content_->last() >= state.crash_point;
  if (!same_window) TORN_RETURN_IF_ERROR(OpenWindow(state.base_end, last));
  content_->SetFromState(state);
  return WriteChanged();
}

Status BuildFromScratch(const trace::Log& log, const models::CrashState& state, const std::string& path,
                        uint64_t device_bytes, bool force) {
  TORN_ASSIGN_OR_RETURN(auto opened, OpenZeroed(log, path, device_bytes, force));
  Target t = opened.second;
  std::vector<std::byte> scratch;
  const uint64_t ss = log.sectorsize();
  for (size_t i = 0; i <= state.crash_point && i < log.size(); ++i) {
    if (!log.entry(i).changes_content()) continue;
    if (state.durable(i)) {
      TORN_RETURN_IF_ERROR(ApplyEntry(log, i, t, scratch).with_context(path));
      continue;
    }
    for (const models::TornWrite& torn : state.torn) {
      if (torn.entry != i) continue;
      scratch.resize(log.entry_bytes(i));
      if (log.entry(i).has_data()) TORN_RETURN_IF_ERROR(log.ReadData(i, scratch));
      for (uint32_t s : torn.sectors)
        TORN_RETURN_IF_ERROR(
            ApplyEntryPart(log, i, t, s, 1, std::span(scratch.data() + s * ss, ss)).with_context(path));
    }
  }
  return Status::Ok();
}

}  // namespace torn::replay
