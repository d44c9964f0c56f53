#include "replayer/apply.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>

namespace torn::replay {
namespace {

uint64_t Le(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Status ZeroRange(const Target& t, uint64_t offset, uint64_t len) {
  if (len == 0) return Status::Ok();
  if (t.block_device) {
    uint64_t range[2] = {offset, len};
    if (::ioctl(t.fd, BLKZEROOUT, range) == 0) return Status::Ok();
  } else if (::fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         static_cast<off_t>(offset), static_cast<off_t>(len)) == 0) {
    return Status::Ok();
  }
  // No hole punching here (tmpfs of an old kernel, a device without zeroout): write zeros.
  static const std::vector<std::byte> kZeros(1 << 20);
  for (uint64_t done = 0; done < len;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), len - done));
    TORN_RETURN_IF_ERROR(PwriteFull(t.fd, std::span(kZeros.data(), n), offset + done));
    done += n;
  }
  return Status::Ok();
}

Status ApplyEntryPart(const trace::Log& log, size_t i, const Target& t, uint64_t first, uint64_t count,
                      std::span<const std::byte> data) {
  const trace::Entry& e = log.entry(i);
  if (!e.changes_content() || count == 0) return Status::Ok();
  if (first + count > e.nr_sectors) return Internal("entry " + std::to_string(i) + ": part past its end");
  uint64_t offset = log.entry_byte_offset(i) + first * log.sectorsize(), len = count * log.sectorsize();
  if (t.bytes && offset + len > t.bytes) {
    return BadInput(log.name() + ": entry " + std::to_string(i) + ": sectors " +
                    std::to_string(e.sector) + ".." + std::to_string(e.sector + e.nr_sectors) +
                    " run past the end of the target (" + std::to_string(t.bytes) + " bytes)");
  }
  if (e.discard()) return ZeroRange(t, offset, len);
  if (data.size() != len) return Internal("entry " + std::to_string(i) + ": part of the wrong size");
  Status st = PwriteFull(t.fd, data, offset);
  return st.with_context("entry " + std::to_string(i));
}

Status ApplyEntry(const trace::Log& log, size_t i, const Target& t, std::vector<std::byte>& scratch) {
  const trace::Entry& e = log.entry(i);
  if (!e.changes_content()) return Status::Ok();
  if (e.has_data()) {
    scratch.resize(log.entry_bytes(i));
    TORN_RETURN_IF_ERROR(log.ReadData(i, scratch));
  }
  return ApplyEntryPart(log, i, t, 0, e.nr_sectors, e.has_data() ? std::span<const std::byte>(scratch)
                                                                  : std::span<const std::byte>());
}

std::optional<uint64_t> Ext4Bytes(int fd) {
  // ext4 super block: 1024 bytes at byte 1024. Offsets from the kernel's struct ext4_super_block.
  std::byte sb[1024];
  if (!PreadFull(fd, sb, 1024).ok()) return std::nullopt;
  if (Le(sb + 0x38, 2) != 0xEF53) return std::nullopt;
  uint64_t log_block = Le(sb + 0x18, 4);
  if (log_block > 6) return std::nullopt;  // blocks of 1 KiB .. 64 KiB
  uint64_t blocks = Le(sb + 0x4, 4);
  constexpr uint64_t kIncompat64Bit = 0x80;
  if (Le(sb + 0x60, 4) & kIncompat64Bit) blocks |= Le(sb + 0x150, 4) << 32;
  return blocks << (10 + log_block);
}

}  // namespace torn::replay
