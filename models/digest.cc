#include "models/digest.h"

#include <unistd.h>
#include <xxhash.h>

#include <cerrno>

#include <algorithm>
#include <cstring>

namespace torn::models {
namespace {

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool AllZero(std::span<const std::byte> b) {
  const std::byte* p = b.data();
  size_t n = b.size();
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    acc |= v;
    if (acc) return false;
  }
  for (; n; ++p, --n) acc |= static_cast<uint64_t>(*p);
  return acc == 0;
}

}  // namespace

uint64_t SectorHash(std::span<const std::byte> sector) {
  if (AllZero(sector)) return 0;
  uint64_t h = XXH3_64bits(sector.data(), sector.size());
  return h == 0 ? 1 : h;
}

uint64_t Term(uint64_t sector, uint64_t hash) {
  if (hash == 0) return 0;
  return Mix(hash ^ Mix(sector + 0x9e3779b97f4a7c15ULL));
}

Result<uint64_t> ImageDigest(int fd, uint64_t bytes, uint32_t sectorsize) {
  thread_local std::vector<std::byte> buf(size_t{1} << 20);
  uint64_t digest = 0;
  for (uint64_t off = 0; off < bytes;) {
    // Holes read as zeros and add nothing: skip to the next data (a block device has no holes).
    off_t data = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;
    if (data > static_cast<off_t>(off)) off = static_cast<uint64_t>(data) / sectorsize * sectorsize;
    if (off >= bytes) break;
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), bytes - off));
    TORN_RETURN_IF_ERROR(PreadFull(fd, std::span(buf.data(), n), off));
    for (size_t s = 0; s + sectorsize <= n; s += sectorsize)
      digest += Term((off + s) / sectorsize, SectorHash(std::span(buf.data() + s, sectorsize)));
    off += n;
  }
  return digest;
}

uint64_t BaseContent::hash(uint64_t sector) const {
  auto it = hashes_.find(sector);
  return it == hashes_.end() ? 0 : it->second;
}

void BaseContent::Put(uint64_t sector, uint64_t h) {
  auto it = hashes_.find(sector);
  if (it != hashes_.end()) {
    digest_ -= Term(sector, it->second);
    if (h == 0) {
      hashes_.erase(it);
    } else {
      it->second = h;
    }
  } else if (h != 0) {
    hashes_.emplace(sector, h);
  }
  digest_ += Term(sector, h);
}

Status BaseContent::Advance(size_t to) {
  if (to < end_) return Internal("BaseContent moves forward only");
  const uint32_t ss = log_->sectorsize();
  for (; end_ < to; ++end_) {
    const trace::Entry& e = log_->entry(end_);
    if (!e.changes_content()) continue;
    if (e.discard()) {
      auto lo = hashes_.lower_bound(e.sector), hi = hashes_.lower_bound(e.sector + e.nr_sectors);
      for (auto it = lo; it != hi; ++it) digest_ -= Term(it->first, it->second);
      hashes_.erase(lo, hi);
      continue;
    }
    scratch_.resize(log_->entry_bytes(end_));
    TORN_RETURN_IF_ERROR(log_->ReadData(end_, scratch_));
    for (uint64_t s = 0; s < e.nr_sectors; ++s)
      Put(e.sector + s, SectorHash(std::span(scratch_.data() + s * ss, ss)));
  }
  return Status::Ok();
}

}  // namespace torn::models
