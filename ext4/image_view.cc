#include "ext4/image_view.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/fd.h"

namespace torn::ext4 {

void SectorSet::Add(uint64_t first, uint64_t count) {
  if (count == 0) return;
  uint64_t lo = first, hi = first + count;
  auto it = ranges_.upper_bound(lo);
  if (it != ranges_.begin() && std::prev(it)->second >= lo) --it;
  while (it != ranges_.end() && it->first <= hi) {
    lo = std::min(lo, it->first);
    hi = std::max(hi, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(lo, hi);
}

void SectorSet::AddBytes(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  uint64_t first = offset / kSector, last = (offset + length - 1) / kSector;
  Add(first, last - first + 1);
}

bool SectorSet::Contains(uint64_t sector) const { return Intersects(sector, 1); }

bool SectorSet::Intersects(uint64_t first, uint64_t count) const {
  if (count == 0) return false;
  auto it = ranges_.upper_bound(first + count - 1);  // first range starting after the query's end
  if (it == ranges_.begin()) return false;
  --it;
  return it->second > first;
}

uint64_t SectorSet::sectors() const {
  uint64_t n = 0;
  for (const auto& [a, b] : ranges_) n += b - a;
  return n;
}

Status ImageView::Read(uint64_t offset, std::span<std::byte> out) {
  TORN_RETURN_IF_ERROR(ReadUnrecorded(offset, out));
  if (!record_ || out.empty()) return Status::Ok();
  if (!file_only_ || overlay_.empty()) {
    record_->AddBytes(offset, out.size());
    return Status::Ok();
  }
  uint64_t first = offset / kSector, last = (offset + out.size() - 1) / kSector;
  for (uint64_t x = first; x <= last;) {
    auto it = overlay_.lower_bound(x);
    uint64_t end = it == overlay_.end() ? last + 1 : std::min(it->first, last + 1);
    if (end > x) record_->Add(x, end - x);  // [x, end) comes from the file
    x = end + 1;                             // skip the overlay's sector
  }
  return Status::Ok();
}

Status ImageView::ReadUnrecorded(uint64_t offset, std::span<std::byte> out) {
  if (out.empty()) return Status::Ok();
  if (offset > bytes_ || out.size() > bytes_ - offset)
    return BadInput("read of " + std::to_string(out.size()) + " bytes at byte " + std::to_string(offset) +
                    " is past the image's end (" + std::to_string(bytes_) + " bytes)");
  TORN_RETURN_IF_ERROR(PreadFull(fd_, out, offset));
  if (overlay_.empty()) return Status::Ok();
  uint64_t first = offset / kSector, last = (offset + out.size() - 1) / kSector;
  for (auto it = overlay_.lower_bound(first); it != overlay_.end() && it->first <= last; ++it) {
    uint64_t s0 = it->first * kSector;
    uint64_t lo = std::max(s0, offset), hi = std::min(s0 + kSector, offset + out.size());
    std::memcpy(out.data() + (lo - offset), it->second.data() + (lo - s0), hi - lo);
  }
  return Status::Ok();
}

void ImageView::Put(uint64_t offset, std::span<const std::byte> bytes) {
  for (uint64_t done = 0; done < bytes.size(); done += kSector) {
    auto& sector = overlay_[(offset + done) / kSector];
    sector.assign(bytes.begin() + done, bytes.begin() + done + kSector);
  }
}

}  // namespace torn::ext4
