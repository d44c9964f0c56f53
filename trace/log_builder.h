// LogBuilder: writes small synthetic dm-log-writes logs in the exact on-disk format, for unit tests and
// the fuzzer's seed corpus. Tests that use it say "Synthetic" in their names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/log_format.h"

namespace torn::trace {

class LogBuilder {
 public:
  explicit LogBuilder(uint32_t sectorsize = 512) : sectorsize_(sectorsize) {}

  // A write of nr_sectors, each sector filled with `fill` (its data is fill, fill+1, ... per sector).
  LogBuilder& Write(uint64_t sector, uint64_t nr_sectors, uint8_t fill, uint64_t flags = 0);
  LogBuilder& Flush(uint64_t flags = kFlagFlush);
  LogBuilder& Discard(uint64_t sector, uint64_t nr_sectors);
  LogBuilder& Mark(std::string_view name);
  // An entry with arbitrary header fields and raw data, to build damaged logs.
  LogBuilder& Raw(uint64_t sector, uint64_t nr_sectors, uint64_t flags, uint64_t data_len,
                  std::vector<std::byte> data, std::string_view name = {});

  // The log's bytes; nr_entries is the number of entries added unless overridden.
  std::vector<std::byte> Build(int64_t nr_entries_override = -1, uint64_t magic = kLogMagic,
                               uint64_t version = kLogVersion) const;
  // Writes Build() to path.
  void WriteTo(const std::string& path) const;
  uint32_t sectorsize() const { return sectorsize_; }

 private:
  uint32_t sectorsize_;
  std::vector<std::byte> body_;
  uint64_t count_ = 0;
};

}  // namespace torn::trace
