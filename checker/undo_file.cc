#include "checker/undo_file.h"

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "base/fd.h"

namespace torn::checker {
namespace {

constexpr char kMagic[8] = {'E', '2', 'U', 'N', 'D', 'O', '0', '2'};
constexpr uint32_t kKeyBlockMagic = 0xCADECADE;
constexpr uint32_t kStateFinished = 0x1;
constexpr size_t kHeaderBytes = 512;
constexpr size_t kKeyBytes = 16;           // fsblk (8), blk_crc (4), size (4)
constexpr size_t kKeyBlockHeader = 16;     // magic (4), crc (4), reserved (8)
constexpr uint32_t kMinBlock = 1024, kMaxBlock = 1 << 20;
constexpr uint64_t kMaxExtentBlocks = 512;  // E2UNDO_MAX_EXTENT_BLOCKS

uint64_t Le(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

uint32_t Crc32c(const std::byte* p, size_t n) {
  return ext2fs_crc32c_le(~0u, reinterpret_cast<const unsigned char*>(p), n);
}

}  // namespace

Result<UndoRecord> ReadUndoFile(const std::string& path) {
  UndoRecord rec;
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    rec.finished = true;
    return rec;
  }
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  TORN_ASSIGN_OR_RETURN(uint64_t file_bytes, FileSize(fd.get()));
  if (file_bytes == 0) {
    rec.finished = true;
    return rec;
  }
  auto bad = [&](const std::string& what) { return BadInput(path + ": e2fsck undo file: " + what); };
  if (file_bytes < kHeaderBytes) return bad("shorter than its header");
  std::byte h[kHeaderBytes];
  TORN_RETURN_IF_ERROR(PreadFull(fd.get(), h, 0).with_context(path));
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) return bad("no E2UNDO02 magic");
  if (Le(h + 508, 4) != Crc32c(h, 508)) return bad("header checksum mismatch");
  const uint64_t num_keys = Le(h + 8, 8), key_offset = Le(h + 24, 8);
  const uint32_t block = uint32_t(Le(h + 32, 4)), fs_block = uint32_t(Le(h + 36, 4));
  const uint32_t state = uint32_t(Le(h + 44, 4)), compat = uint32_t(Le(h + 48, 4));
  const uint32_t incompat = uint32_t(Le(h + 52, 4)), rocompat = uint32_t(Le(h + 56, 4));
  const uint64_t fs_offset = (compat & 0x1) ? Le(h + 64, 8) : 0;
  if (block < kMinBlock || block > kMaxBlock || fs_block == 0)
    return bad(fmt::format("block sizes {} / {} out of range", block, fs_block));
  if (incompat || rocompat) return bad("unknown incompatible features");
  if (fs_offset) return bad("a file system offset (torn never asks for one)");
  rec.finished = state & kStateFinished;

  const uint64_t keys_per_block = block / kKeyBytes - 1;
  std::vector<std::byte> kb(block);
  uint64_t lblk = key_offset;
  for (uint64_t i = 0; i < num_keys; i += keys_per_block) {
    if ((lblk + 1) * uint64_t(block) > file_bytes) return bad(fmt::format("key block {} past the end", lblk));
    TORN_RETURN_IF_ERROR(PreadFull(fd.get(), kb, lblk * block).with_context(path));
    if (Le(kb.data(), 4) != kKeyBlockMagic) return bad(fmt::format("key block {}: wrong magic", lblk));
    uint32_t crc = uint32_t(Le(kb.data() + 4, 4));
    std::memset(kb.data() + 4, 0, 4);
    if (crc != Crc32c(kb.data(), block)) return bad(fmt::format("key block {}: checksum mismatch", lblk));
    ++lblk;
    for (uint64_t j = 0; j < keys_per_block && i + j < num_keys; ++j) {
      const std::byte* k = kb.data() + kKeyBlockHeader + j * kKeyBytes;
      uint64_t fsblk = Le(k, 8);
      uint32_t key_crc = uint32_t(Le(k + 8, 4)), size = uint32_t(Le(k + 12, 4));
      std::string where = fmt::format("key {} (fs block {})", i + j, fsblk);
      if (size == 0 || size > kMaxExtentBlocks * block) return bad(where + ": size out of range");
      if (lblk * uint64_t(block) + size > file_bytes) return bad(where + ": data past the end");
      UndoRegion r;
      r.offset = fsblk * fs_block;
      r.bytes.resize(size);
      TORN_RETURN_IF_ERROR(PreadFull(fd.get(), r.bytes, lblk * block).with_context(path));
      if (Crc32c(r.bytes.data(), size) != key_crc) return bad(where + ": data checksum mismatch");
      lblk += (size + block - 1) / block;
      rec.regions.push_back(std::move(r));
    }
  }
  return rec;
}

}  // namespace torn::checker
