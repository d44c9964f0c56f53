// Test helper for recovery_test.cc and the fuzzer: a small ext4 image made by mke2fs, with jbd2
// transactions written into its journal by hand, block by block, the way jbd2 lays them out
// (jbd2_format.h): descriptor blocks with tags of the journal's layout (csum v3, v2 with 16-bit
// checksums, 64-bit or 32-bit block numbers), escaped data blocks, revoke blocks, commit blocks, and
// every checksum the features ask for (v1: crc32 of the transaction in the commit block; v2/v3: crc32c
// in the tags, the block tails and the commit block). Each writer can damage what it writes, so tests
// can check what recovery does with a bad checksum or a missing block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace torn::ext4::testing {

struct MkfsOptions {
  uint32_t block_size = 1024;
  uint64_t bytes = 8 << 20;
  std::string features;  // mke2fs -O LIST, e.g. "^metadata_csum,^64bit"; empty: Debian's ext4 defaults
};

struct Tag {
  uint64_t home = 0;            // the file-system block the data goes to
  std::vector<std::byte> data;  // one block; escaped by the writer when it starts with the magic
  bool bad_checksum = false;    // v2/v3: store a wrong tag checksum
};

class SyntheticJournal {
 public:
  // mke2fs an image at `path` (removed by the caller's directory). Without a journal (features
  // "^has_journal") only the image and free_blocks() are set up.
  static Result<SyntheticJournal> Make(const std::string& path, const MkfsOptions& options);

  const std::string& path() const { return path_; }
  uint32_t block_size() const { return bs_; }
  uint32_t maxlen() const { return maxlen_; }
  // `n` blocks free in the file system (their contents are zero after mke2fs).
  const std::vector<uint64_t>& free_blocks() const { return free_; }

  // The journal super block: features (compat, incompat), s_start and s_sequence; rewritten with its
  // checksum (and s_checksum_type crc32c) when csum v2/v3. Also s_first / s_maxlen when non-zero.
  Status SetSuper(uint32_t compat, uint32_t incompat, uint32_t start, uint32_t sequence);
  Status SetSuperField(size_t offset, uint32_t value);  // any be32 field, checksum updated
  // The ext4 super block's needs_recovery flag (and its checksum with metadata_csum).
  Status SetNeedsRecovery(bool on);
  Status SetExt4Field32(size_t offset, uint32_t value);

  // The log: each writer puts its blocks at the current position and moves it on, wrapping from
  // s_maxlen back to s_first as jbd2 does.
  void Seek(uint32_t position) { pos_ = position; }
  uint32_t position() const { return pos_; }
  Status Descriptor(uint32_t sequence, const std::vector<Tag>& tags, bool bad_tail = false);
  Status Revoke(uint32_t sequence, const std::vector<uint64_t>& blocks, bool bad_tail = false);
  Status Commit(uint32_t sequence, uint64_t commit_seconds, bool bad_checksum = false);
  // Raw access to a journal block (for damage the writers do not offer).
  Result<std::vector<std::byte>> ReadJournalBlock(uint32_t n);
  Status WriteJournalBlock(uint32_t n, const std::vector<std::byte>& bytes);
  Result<std::vector<std::byte>> ReadBlock(uint64_t block);

  // A block of `fill` bytes, or one that starts with the jbd2 magic (jbd2 escapes those).
  std::vector<std::byte> Pattern(uint8_t fill) const;
  std::vector<std::byte> StartsWithMagic(uint8_t fill) const;

 private:
  Status WriteAt(uint32_t n, const std::vector<std::byte>& bytes);
  uint32_t Next();
  uint32_t Seed() const;

  std::string path_;
  uint32_t bs_ = 0, maxlen_ = 0, first_ = 1, pos_ = 1;
  uint32_t compat_ = 0, incompat_ = 0;
  std::vector<uint64_t> map_;  // journal block -> file-system block
  std::vector<uint64_t> free_;
  std::vector<std::byte> uuid_;
  uint32_t crc_sequence_ = 0;  // v1: the transaction whose crc32 is running
  uint32_t running_crc_ = ~0u;
};

}  // namespace torn::ext4::testing
