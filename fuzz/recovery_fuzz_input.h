// The recovery fuzzer's input format, shared by the fuzzer (recovery_fuzzer.cc) and the seed maker
// (make_seeds.cc --recovery):
//
//   byte 0        fixups: which checksums the fuzzer recomputes after splicing, so mutations get past
//                 them and reach the passes (kFixJournalSuper, kFixBlockTails, kFixTagChecksums)
//   bytes 1..     journal blocks 0, 1, 2, ... of the base image's journal (block size of the base), at
//                 most kMaxBlocks; a short last block only replaces the start of that block
//
// Journal block 0 is the journal super block, so s_start, s_sequence and the features are fuzzed too.
// 64 blocks cover every transaction of the base state (corpus/ext4-default, 42 log blocks used) and
// keep an input under 65 KiB, a size libFuzzer mutates well.
#pragma once

#include <ext2fs/ext2fs.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace torn::fuzz {

inline constexpr uint32_t kMaxBlocks = 64;
inline constexpr uint8_t kFixJournalSuper = 1, kFixBlockTails = 2, kFixTagChecksums = 4;

struct JournalLocation {
  uint32_t block_size = 0;
  std::vector<uint64_t> blocks;  // file-system block of journal block 0, 1, ... (at most kMaxBlocks)
  std::string error;             // empty when found
};

// The first kMaxBlocks blocks of the journal of the ext4 image at `path`, through libext2fs.
inline JournalLocation LocateJournal(const std::string& path) {
  JournalLocation out;
  ext2_filsys fs = nullptr;
  if (ext2fs_open(path.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs)) {
    out.error = path + ": libext2fs cannot open it";
    return out;
  }
  out.block_size = fs->blocksize;
  ext2_inode inode;
  ext2_ino_t ino = fs->super->s_journal_inum;
  if (!ino || ext2fs_read_inode(fs, ino, &inode)) {
    out.error = path + ": no journal inode";
  } else {
    uint64_t n = EXT2_I_SIZE(&inode) / fs->blocksize;
    for (uint64_t b = 0; b < n && b < kMaxBlocks; ++b) {
      blk64_t phys = 0;
      if (ext2fs_bmap2(fs, ino, &inode, nullptr, 0, b, nullptr, &phys) || !phys) {
        out.error = path + ": journal block " + std::to_string(b) + " is not mapped";
        break;
      }
      out.blocks.push_back(phys);
    }
  }
  ext2fs_close_free(&fs);
  return out;
}

}  // namespace torn::fuzz
