// libFuzzer target for the dm-log-writes reader: any bytes in, a Status or a parsed log out, never a
// crash, a sanitizer report or a huge allocation. Whatever parses is also read back entry by entry and
// replayed onto an in-memory image, so the offsets the reader accepted are exercised too.
//
// Inputs are capped at 1 MiB: the reader's cost is linear in the input, and larger inputs only slow
// the search down without reaching new code (every length field is checked against the file size
// before anything is allocated, which is the property under test). Nothing is logged: the reader
// reports through Status and never prints.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "trace/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxInput = 1 << 20;
  if (size > kMaxInput) return -1;  // -1: do not add to the corpus
  auto bytes = std::span(reinterpret_cast<const std::byte*>(data), size);
  for (bool allow_truncated : {false, true}) {
    auto log = torn::trace::Log::FromBytes(bytes, "fuzz.log",
                                           {.allow_truncated = allow_truncated, .device_bytes = 0});
    if (!log.ok()) continue;
    // Apply to a small image of the touched range, as the replayer would (bounded: the data of every
    // entry is inside the input, and the image only covers writes that fit in 8 MiB).
    std::vector<std::byte> image(std::min<uint64_t>(log->max_byte_touched(), 8 << 20));
    std::vector<std::byte> buf;
    for (size_t i = 0; i < log->size(); ++i) {
      const auto& e = log->entry(i);
      if (e.mark()) (void)log->mark_name(e).size();
      if (!e.changes_content()) continue;
      uint64_t off = log->entry_byte_offset(i), len = log->entry_bytes(i);
      if (off >= image.size() || len > image.size() - off) continue;
      if (e.discard()) {
        std::memset(image.data() + off, 0, len);
        continue;
      }
      buf.resize(len);
      if (!log->ReadData(i, buf).ok()) __builtin_trap();  // accepted data must be readable
      std::memcpy(image.data() + off, buf.data(), len);
    }
  }
  return 0;
}
