#include "replayer/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/block_device.h"
#include "base/interrupt.h"
#include "replayer/apply.h"

namespace torn::replay {

Result<size_t> ResolveEndPoint(const trace::Log& log, const ReplayOptions& options) {
  if (log.size() == 0) return BadInput(log.name() + ": the log has no entries");
  if (options.to_mark && options.to_entry) return BadInput("give --to-mark or --to-entry, not both");
  if (options.to_mark) {
    auto idx = log.FindMark(*options.to_mark);
    if (!idx) {
      std::string known;
      for (const auto& m : log.marks()) known += (known.empty() ? "" : ", ") + m.name;
      return BadInput(log.name() + ": no mark named '" + *options.to_mark + "' (marks: " +
                      (known.empty() ? "none" : known) + ")");
    }
    return *idx;
  }
  if (options.to_entry) {
    if (*options.to_entry >= log.size()) {
      return BadInput(log.name() + ": --to-entry " + std::to_string(*options.to_entry) +
                      " is past the last entry (" + std::to_string(log.size() - 1) + ")");
    }
    return static_cast<size_t>(*options.to_entry);
  }
  return log.size() - 1;
}

Result<ReplayResult> ReplayToImage(const trace::Log& log, const std::string& out_path,
                                   const ReplayOptions& options) {
  auto start = std::chrono::steady_clock::now();
  TORN_ASSIGN_OR_RETURN(size_t last, ResolveEndPoint(log, options));
  TORN_ASSIGN_OR_RETURN(DeviceInfo info, InspectPath(out_path));
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenForWriting(out_path, options.force));

  Target t{fd.get(), info.is_block, 0};
  if (info.is_block) {
    TORN_ASSIGN_OR_RETURN(t.bytes, FileSize(fd.get()));
    if (options.device_bytes && options.device_bytes != t.bytes) {
      return BadInput(out_path + ": --device-size " + std::to_string(options.device_bytes) +
                      " differs from the device's size " + std::to_string(t.bytes));
    }
    TORN_RETURN_IF_ERROR(ZeroRange(t, 0, t.bytes).with_context(out_path));
  } else {
    t.bytes = options.device_bytes ? options.device_bytes : log.max_byte_touched();
    if (::ftruncate(fd.get(), 0) != 0 || ::ftruncate(fd.get(), static_cast<off_t>(t.bytes)) != 0)
      return ErrnoError(out_path + ": size the image", errno);
  }

  ReplayResult r;
  std::vector<std::byte> scratch;
  for (size_t i = 0; i <= last; ++i) {
    if ((i & 1023) == 0) {
      TORN_RETURN_IF_ERROR(CheckInterrupted());
      if (options.progress) options.progress(i, last + 1);
    }
    TORN_RETURN_IF_ERROR(ApplyEntry(log, i, t, scratch).with_context(out_path));
    if (log.entry(i).changes_content()) ++r.entries_applied;
    if (log.entry(i).has_data()) r.bytes_applied += log.entry_bytes(i);
  }
  // Without an explicit size, an image holding an ext4 super block covers the whole file system.
  if (!info.is_block && !options.device_bytes) {
    if (auto fs_bytes = Ext4Bytes(fd.get()); fs_bytes && *fs_bytes > t.bytes) {
      if (::ftruncate(fd.get(), static_cast<off_t>(*fs_bytes)) != 0)
        return ErrnoError(out_path + ": grow the image to the file system's size", errno);
      t.bytes = *fs_bytes;
    }
  }
  if (::fsync(fd.get()) != 0) return ErrnoError(out_path + ": fsync", errno);
  if (options.progress) options.progress(last + 1, last + 1);
  r.last_entry = last;
  r.image_bytes = t.bytes;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace torn::replay
