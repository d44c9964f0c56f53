// Parsing a dm-log-writes log: one pass over the entry headers, checking log_format.h's invariants in
// the order they can be checked, each failure naming the file, the entry index and its byte offset.
#include "trace/log.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "base/interrupt.h"
#include "trace/trace_dir.h"
#include "trace/zstd_file.h"

namespace torn::trace {
namespace {

uint64_t Le64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint32_t Le32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

bool IsPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

}  // namespace

std::string FlagNames(uint64_t flags) {
  static const struct {
    uint64_t bit;
    const char* name;
  } kNames[] = {{kFlagFlush, "FLUSH"}, {kFlagFua, "FUA"}, {kFlagDiscard, "DISCARD"},
                {kFlagMark, "MARK"}, {kFlagMetadata, "META"}};
  std::string out;
  for (const auto& n : kNames) {
    if (!(flags & n.bit)) continue;
    if (!out.empty()) out += '|';
    out += n.name;
  }
  if (flags & ~kKnownFlags) out += (out.empty() ? "" : "|") + std::string("0x") + [&] {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(flags & ~kKnownFlags));
    return std::string(b);
  }();
  return out.empty() ? "-" : out;
}

Result<Log> Log::Open(const std::string& path, const OpenOptions& options) {
  TORN_ASSIGN_OR_RETURN(std::string log_path, ResolveLogPath(path));
  Log log;
  log.name_ = path;
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(log_path, O_RDONLY));
  TORN_ASSIGN_OR_RETURN(bool compressed, IsZstd(fd.get()));
  if (compressed) {
    auto plain = DecompressToAnonymousFile(fd.get());
    if (!plain.ok()) return plain.status().with_context(path);
    log.fd_ = std::move(plain).value();
  } else {
    log.fd_ = std::move(fd);
  }
  auto size = FileSize(log.fd_.get());
  if (!size.ok()) return size.status().with_context(path);
  log.file_bytes_ = *size;
  TORN_RETURN_IF_ERROR(log.Parse(options));
  return log;
}

Result<Log> Log::FromBytes(std::span<const std::byte> bytes, std::string name,
                           const OpenOptions& options) {
  Log log;
  log.name_ = std::move(name);
  log.memory_ = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
  log.file_bytes_ = bytes.size();
  TORN_RETURN_IF_ERROR(log.Parse(options));
  return log;
}

Status Log::ReadData(size_t i, std::span<std::byte> out) const {
  const Entry& e = entries_.at(i);
  if (out.size() != entry_bytes(i) || !e.has_data()) {
    return Internal(name_ + ": entry " + std::to_string(i) + ": ReadData with a wrong length");
  }
  if (memory_) {
    std::memcpy(out.data(), memory_->data() + e.data_offset, out.size());
    return Status::Ok();
  }
  Status st = PreadFull(fd_.get(), out, e.data_offset);
  if (!st.ok()) return st.with_context(name_ + ": entry " + std::to_string(i));
  return st;
}

std::optional<size_t> Log::FindMark(std::string_view name) const {
  for (const Mark& m : marks_)
    if (m.name == name) return m.entry;
  return std::nullopt;
}

Status Log::Parse(const OpenOptions& options) {
  // Reads [offset, offset+out.size()) or reports how the file ends.
  auto read_at = [&](uint64_t offset, std::span<std::byte> out) -> Status {
    if (offset > file_bytes_ || out.size() > file_bytes_ - offset) {
      return Truncated("needs " + std::to_string(out.size()) + " bytes at byte " +
                       std::to_string(offset) + ", the file has " + std::to_string(file_bytes_));
    }
    if (memory_) {
      std::memcpy(out.data(), memory_->data() + offset, out.size());
      return Status::Ok();
    }
    return PreadFull(fd_.get(), out, offset);
  };

  std::byte super[kSuperSize];
  if (Status st = read_at(0, super); !st.ok()) {
    return Truncated(name_ + ": super block: log is shorter than its super block (" +
                     std::to_string(file_bytes_) + " bytes)");
  }
  uint64_t magic = Le64(super + kSuperMagic);
  if (magic != kLogMagic) {
    char b[64];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(magic));
    return BadInput(name_ + ": super block: wrong magic " + b +
                    " (not a dm-log-writes log; expected 0x6a736677736872)");
  }
  uint64_t version = Le64(super + kSuperVersion);
  if (version != kLogVersion) {
    return BadInput(name_ + ": super block: unsupported version " + std::to_string(version) +
                    " (expected 1)");
  }
  declared_entries_ = Le64(super + kSuperNrEntries);
  sectorsize_ = Le32(super + kSuperSectorSize);
  if (!IsPowerOfTwo(sectorsize_) || sectorsize_ < kMinSectorSize || sectorsize_ > kMaxSectorSize) {
    return BadInput(name_ + ": super block: sector size " + std::to_string(sectorsize_) +
                    " is not a power of two in [512, 65536]");
  }
  // Every entry takes at least one header sector: more entries than that cannot fit (invariant 2).
  // Checked before reserving memory for the index.
  uint64_t max_fit = file_bytes_ / sectorsize_;
  if (declared_entries_ > max_fit && !options.allow_truncated) {
    return Truncated(name_ + ": super block: nr_entries " + std::to_string(declared_entries_) +
                     " cannot fit in a file of " + std::to_string(file_bytes_) +
                     " bytes (log truncated, or a corrupt count)");
  }
  entries_.reserve(std::min(declared_entries_, max_fit));

  std::vector<std::byte> header(sectorsize_);
  uint64_t offset = sectorsize_;
  for (uint64_t i = 0; i < declared_entries_; ++i) {
    if ((i & 0xffff) == 0) TORN_RETURN_IF_ERROR(CheckInterrupted());
    std::string where = name_ + ": entry " + std::to_string(i) + " at byte " + std::to_string(offset);
    if (Status st = read_at(offset, header); !st.ok()) {
      if (st.code() == Code::kTruncated && options.allow_truncated) {
        truncated_ = true;
        break;
      }
      return st.code() == Code::kTruncated
                 ? Truncated(where + ": header runs past the end of the file (log truncated: the "
                             "super block declares " + std::to_string(declared_entries_) +
                             " entries)")
                 : st.with_context(where);
    }
    Entry e;
    e.sector = Le64(header.data() + kEntrySector);
    e.nr_sectors = Le64(header.data() + kEntryNrSectors);
    e.flags = Le64(header.data() + kEntryFlags);
    uint64_t data_len = Le64(header.data() + kEntryDataLen);
    offset += sectorsize_;

    if (e.flags & ~kKnownFlags) {
      return BadInput(where + ": unknown flag bits " + FlagNames(e.flags));
    }
    if (e.mark()) {
      // Written as a subtraction: data_len comes from the file and may be near 2^64 (found by the fuzzer).
      if (data_len > sectorsize_ - kEntryMarkName) {
        return BadInput(where + ": mark name of " + std::to_string(data_len) +
                        " bytes does not fit in its " + std::to_string(sectorsize_) +
                        "-byte header sector");
      }
      std::string name(reinterpret_cast<const char*>(header.data() + kEntryMarkName), data_len);
      if (name.find('\0') != std::string::npos) {
        return BadInput(where + ": mark name holds a NUL byte");
      }
      e.mark_index = static_cast<uint32_t>(marks_.size());
      marks_.push_back({entries_.size(), std::move(name)});
    } else if (e.nr_sectors == 0 && !e.flush()) {
      return BadInput(where + ": empty entry that is neither a flush nor a mark (flags " +
                      FlagNames(e.flags) + ")");
    }
    if (e.has_data() && e.nr_sectors > kMaxEntryBytes / sectorsize_) {
      return BadInput(where + ": absurd length of " + std::to_string(e.nr_sectors) +
                      " sectors (limit " + std::to_string(kMaxEntryBytes) + " bytes)");
    }
    if (e.nr_sectors > UINT64_MAX / sectorsize_ ||
        e.sector > UINT64_MAX / sectorsize_ - e.nr_sectors) {
      return BadInput(where + ": sector " + std::to_string(e.sector) + " + length overflows");
    }
    uint64_t bytes = e.nr_sectors * sectorsize_;
    uint64_t end_byte = (e.sector + e.nr_sectors) * sectorsize_;
    if (options.device_bytes && !e.mark() && end_byte > options.device_bytes) {
      return BadInput(where + ": sectors " + std::to_string(e.sector) + ".." +
                      std::to_string(e.sector + e.nr_sectors) + " run past the device (" +
                      std::to_string(options.device_bytes) + " bytes)");
    }
    if (e.has_data()) {
      if (offset > file_bytes_ || bytes > file_bytes_ - offset) {
        if (options.allow_truncated) {
          truncated_ = true;
          break;
        }
        return Truncated(where + ": data of " + std::to_string(bytes) +
                         " bytes runs past the end of the file (" + std::to_string(file_bytes_) +
                         " bytes; log truncated)");
      }
      e.data_offset = offset;
      offset += bytes;
    }
    if (e.changes_content()) max_byte_ = std::max(max_byte_, end_byte);
    entries_.push_back(e);
  }
  return Status::Ok();
}

}  // namespace torn::trace
