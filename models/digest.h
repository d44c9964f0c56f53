// Content digests of images, updated sector by sector.
//
// The digest of an image is the sum, modulo 2^64, over its sectors x (of the log's sector size) of
// Term(x, SectorHash(bytes of x)). An all-zero sector hashes to 0 and adds nothing, so a zeroed device
// has digest 0 whatever its size, and changing one sector changes one term: moving from a state to the
// next costs only the sectors whose content differs. Equal images have equal digests; two different
// images collide with probability about 2^-64 (xxh3, not a cryptographic hash).
//
// BaseContent is the digest's view of the base image of a segment: the hash of every non-zero sector
// after content entries [0, end) were applied in log order, kept in an ordered map (memory grows with
// the sectors the log touches, not with the number of states). It only moves forward.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "base/status.h"
#include "trace/log.h"

namespace torn::models {

uint64_t SectorHash(std::span<const std::byte> sector);  // 0 exactly for an all-zero sector
uint64_t Term(uint64_t sector, uint64_t hash);            // 0 when hash is 0

// The digest of `bytes` bytes of an image, computed from scratch (the reference in tests).
Result<uint64_t> ImageDigest(int fd, uint64_t bytes, uint32_t sectorsize);

class BaseContent {
 public:
  explicit BaseContent(const trace::Log& log) : log_(&log) {}

  // Applies the content entries [end(), to) in log order; `to` must not be below end().
  Status Advance(size_t to);
  size_t end() const { return end_; }
  uint64_t hash(uint64_t sector) const;
  uint64_t digest() const { return digest_; }

 private:
  void Put(uint64_t sector, uint64_t hash);

  const trace::Log* log_;
  size_t end_ = 0;
  uint64_t digest_ = 0;
  std::map<uint64_t, uint64_t> hashes_;  // sector -> hash, non-zero sectors only
  std::vector<std::byte> scratch_;
};

}  // namespace torn::models
