#include "trace/log_builder.h"

#include <cstring>
#include <fstream>

namespace torn::trace {
namespace {

void PutLe64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = std::byte((v >> (8 * i)) & 0xff);
}

}  // namespace

LogBuilder& LogBuilder::Raw(uint64_t sector, uint64_t nr_sectors, uint64_t flags, uint64_t data_len,
                            std::vector<std::byte> data, std::string_view name) {
  std::vector<std::byte> header(sectorsize_);
  PutLe64(header.data() + kEntrySector, sector);
  PutLe64(header.data() + kEntryNrSectors, nr_sectors);
  PutLe64(header.data() + kEntryFlags, flags);
  PutLe64(header.data() + kEntryDataLen, data_len);
  if (!name.empty()) {
    std::memcpy(header.data() + kEntryMarkName, name.data(),
                std::min<size_t>(name.size(), sectorsize_ - kEntryMarkName));
  }
  body_.insert(body_.end(), header.begin(), header.end());
  body_.insert(body_.end(), data.begin(), data.end());
  ++count_;
  return *this;
}

LogBuilder& LogBuilder::Write(uint64_t sector, uint64_t nr_sectors, uint8_t fill, uint64_t flags) {
  std::vector<std::byte> data(nr_sectors * sectorsize_);
  for (uint64_t s = 0; s < nr_sectors; ++s)
    std::memset(data.data() + s * sectorsize_, static_cast<uint8_t>(fill + s), sectorsize_);
  return Raw(sector, nr_sectors, flags, 0, std::move(data));
}

LogBuilder& LogBuilder::Flush(uint64_t flags) { return Raw(0, 0, flags, 0, {}); }

LogBuilder& LogBuilder::Discard(uint64_t sector, uint64_t nr_sectors) {
  return Raw(sector, nr_sectors, kFlagDiscard, 0, {});
}

LogBuilder& LogBuilder::Mark(std::string_view name) {
  return Raw(0, 0, kFlagMark, name.size(), {}, name);
}

std::vector<std::byte> LogBuilder::Build(int64_t nr_entries_override, uint64_t magic,
                                         uint64_t version) const {
  std::vector<std::byte> out(sectorsize_);
  PutLe64(out.data() + kSuperMagic, magic);
  PutLe64(out.data() + kSuperVersion, version);
  PutLe64(out.data() + kSuperNrEntries,
          nr_entries_override >= 0 ? static_cast<uint64_t>(nr_entries_override) : count_);
  for (int i = 0; i < 4; ++i) out[kSuperSectorSize + i] = std::byte((sectorsize_ >> (8 * i)) & 0xff);
  out.insert(out.end(), body_.begin(), body_.end());
  return out;
}

void LogBuilder::WriteTo(const std::string& path) const {
  auto bytes = Build();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace torn::trace
