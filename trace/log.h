// Log: a dm-log-writes log opened for reading (a raw file, a block device, a zstd-compressed file, or a
// trace directory holding one of those). Opening parses every entry header once, checks the invariants
// of log_format.h, and keeps a compact index (about 40 bytes an entry); entry data stays on disk and is
// read on demand with pread, so memory does not grow with the log's size. A zstd log is decompressed
// once, streaming, into an unlinked temporary file.
//
// Damage is reported with the file and the entry: "ext4.log: entry 17 at byte 8704: data runs past the
// end of the file". A log that ends early (kTruncated) and a log that is corrupt (kBadInput) are told
// apart, so a caller may choose to use the complete entries of a truncated log (`allow_truncated`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/status.h"
#include "trace/log_format.h"

namespace torn::trace {

struct Entry {
  uint64_t sector = 0;       // in sectorsize units
  uint64_t nr_sectors = 0;   // in sectorsize units
  uint64_t flags = 0;
  uint64_t data_offset = 0;  // byte offset of the data in the (decompressed) log; 0 when none
  uint32_t mark_index = 0;   // index into Log::marks() for marks

  bool flush() const { return flags & kFlagFlush; }
  bool fua() const { return flags & kFlagFua; }
  bool discard() const { return flags & kFlagDiscard; }
  bool mark() const { return flags & kFlagMark; }
  bool metadata() const { return flags & kFlagMetadata; }
  // A write that carries data (not a discard, not a mark, not an empty flush).
  bool has_data() const { return !discard() && !mark() && nr_sectors > 0; }
  // Changes the device's content: a write with data, or a discard (which zeroes its range).
  bool changes_content() const { return has_data() || (discard() && nr_sectors > 0); }
};

struct Mark {
  size_t entry = 0;
  std::string name;
};

struct OpenOptions {
  bool allow_truncated = false;  // keep the complete entries of a log that ends early
  uint64_t device_bytes = 0;     // when known, an entry past it is damage (invariant 5)
};

class Log {
 public:
  // `path` is a log file, a block device or a trace directory (see trace_dir.h).
  static Result<Log> Open(const std::string& path, const OpenOptions& options = {});
  // The same from bytes in memory (the fuzzer, tests). `name` is used in messages.
  static Result<Log> FromBytes(std::span<const std::byte> bytes, std::string name = "<memory>",
                               const OpenOptions& options = {});

  Log(Log&&) noexcept = default;
  Log& operator=(Log&&) noexcept = default;

  const std::string& name() const { return name_; }  // the path the user gave
  uint32_t sectorsize() const { return sectorsize_; }
  uint64_t declared_entries() const { return declared_entries_; }
  bool truncated() const { return truncated_; }       // only with allow_truncated
  std::span<const Entry> entries() const { return entries_; }
  const Entry& entry(size_t i) const { return entries_[i]; }
  size_t size() const { return entries_.size(); }
  std::span<const Mark> marks() const { return marks_; }
  std::optional<size_t> FindMark(std::string_view name) const;  // entry index of the first such mark
  std::string_view mark_name(const Entry& e) const { return marks_[e.mark_index].name; }

  uint64_t entry_bytes(size_t i) const { return entries_[i].nr_sectors * sectorsize_; }
  uint64_t entry_byte_offset(size_t i) const { return entries_[i].sector * sectorsize_; }
  // Highest byte any write or discard touches (an image of this size holds every entry).
  uint64_t max_byte_touched() const { return max_byte_; }

  // Reads entry i's data (entry_bytes(i) bytes) into out.
  Status ReadData(size_t i, std::span<std::byte> out) const;

  // The decompressed log's bytes, for import (raw copy) and for checksums.
  int fd() const { return fd_.get(); }
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  Log() = default;
  Status Parse(const OpenOptions& options);

  std::string name_;
  UniqueFd fd_;
  std::shared_ptr<const std::vector<std::byte>> memory_;  // FromBytes only
  uint64_t file_bytes_ = 0;
  uint32_t sectorsize_ = 0;
  uint64_t declared_entries_ = 0;
  bool truncated_ = false;
  uint64_t max_byte_ = 0;
  std::vector<Entry> entries_;
  std::vector<Mark> marks_;
};

// "FLUSH|FUA|META" for a flags word; "-" for none.
std::string FlagNames(uint64_t flags);

}  // namespace torn::trace
