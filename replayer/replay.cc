#include "replayer/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
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

namespace {

// A decimal index, or nothing when the text is not one (empty, a sign, a letter, too large).
std::optional<size_t> ParseIndex(std::string_view s) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<size_t>> ParseIndexList(std::string_view list, size_t last, std::string_view what) {
  std::string w(what);
  if (list.empty()) return BadInput(w + ": empty list (give indexes and ranges like 98,99,120-125)");
  std::vector<size_t> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = std::min(list.find(',', pos), list.size());
    std::string_view tok = list.substr(pos, comma - pos);
    std::string t(tok);
    size_t dash = tok.find('-');
    auto a = ParseIndex(tok.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : ParseIndex(tok.substr(dash + 1));
    if (!a || !b)
      return BadInput(w + ": '" + t + "' is not an index or a range A-B (give a list like 98,99,120-125)");
    if (*b < *a) return BadInput(w + ": '" + t + "' is a reversed range (write it " + std::to_string(*b) + "-" +
                                 std::to_string(*a) + ")");
    if (*b > last)
      return BadInput(w + ": '" + t + "': " + std::to_string(*b) + " is past the last one allowed (" +
                      std::to_string(last) + ")");
    if (*b - *a >= (size_t{1} << 26)) return BadInput(w + ": '" + t + "' is too long a range");
    for (size_t i = *a; i <= *b; ++i) out.push_back(i);
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<models::TornWrite> ParseTornWrite(const trace::Log& log, std::string_view spec, size_t end) {
  std::string s(spec);
  size_t colon = spec.find(':');
  auto entry = ParseIndex(spec.substr(0, colon));
  if (colon == std::string_view::npos || !entry)
    return BadInput("--torn '" + s + "': give ENTRY:SECTORS, e.g. 41:0-3,7 (sectors 0..3 and 7 of entry 41 landed)");
  if (*entry > end)
    return BadInput("--torn '" + s + "': entry " + std::to_string(*entry) + " is past the end point " +
                    std::to_string(end));
  const trace::Entry& e = log.entry(*entry);
  if (!e.has_data())
    return BadInput("--torn '" + s + "': entry " + std::to_string(*entry) + " carries no data");
  models::TornWrite w{*entry, {}};
  TORN_ASSIGN_OR_RETURN(std::vector<size_t> sectors,
                        ParseIndexList(spec.substr(colon + 1), e.nr_sectors - 1,
                                       "--torn '" + s + "' (entry " + std::to_string(*entry) + " has " +
                                           std::to_string(e.nr_sectors) + " sectors)"));
  for (size_t x : sectors) w.sectors.push_back(static_cast<uint32_t>(x));
  return w;
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

  std::vector<size_t> drop = options.drop;
  std::sort(drop.begin(), drop.end());
  if (!drop.empty() && drop.back() > last)
    return BadInput("--drop: entry " + std::to_string(drop.back()) + " is past the end point " + std::to_string(last));
  for (const auto& w : options.torn) {
    if (w.entry > last)
      return BadInput("--torn: entry " + std::to_string(w.entry) + " is past the end point " + std::to_string(last));
    if (std::binary_search(drop.begin(), drop.end(), w.entry))
      return BadInput("entry " + std::to_string(w.entry) + " is both dropped and torn");
  }

  ReplayResult r;
  std::vector<std::byte> scratch;
  for (size_t i = 0; i <= last; ++i) {
    if ((i & 1023) == 0) {
      TORN_RETURN_IF_ERROR(CheckInterrupted());
      if (options.progress) options.progress(i, last + 1);
    }
    if (std::binary_search(drop.begin(), drop.end(), i)) continue;
    auto torn = std::find_if(options.torn.begin(), options.torn.end(),
                             [&](const models::TornWrite& w) { return w.entry == i; });
    if (torn != options.torn.end()) {
      // Only the sectors that landed, each as its own part (checker/state_image.cc does the same).
      uint64_t ss = log.sectorsize();
      scratch.resize(log.entry_bytes(i));
      TORN_RETURN_IF_ERROR(log.ReadData(i, scratch).with_context(out_path));
      for (uint32_t sec : torn->sectors) {
        if ((uint64_t(sec) + 1) * ss > scratch.size())
          return BadInput("--torn: sector " + std::to_string(sec) + " is past entry " + std::to_string(i) + "'s end");
        TORN_RETURN_IF_ERROR(
            ApplyEntryPart(log, i, t, sec, 1, std::span(scratch.data() + sec * ss, ss)).with_context(out_path));
      }
      ++r.entries_applied;
      r.bytes_applied += torn->sectors.size() * ss;
      continue;
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
