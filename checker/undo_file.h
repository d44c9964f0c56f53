// e2fsck's own record of what it overwrote: the undo file `e2fsck -z FILE` writes (format E2UNDO02,
// lib/ext2fs/undo_io.c in e2fsprogs). Before e2fsck's journal replay writes a block, the undo I/O
// manager saves the block's old bytes, once per block, with a crc32c per key and per key block.
//
// The checker moves one image from crash state to crash state (replayer/materializer.h); the fsck
// oracle's journal replay writes into it. Reading the undo file tells exactly which bytes e2fsck
// changed and what they were, so the state's image is put back by rewriting those few blocks instead
// of copying the whole image before every e2fsck run.
//
// Layout (block_size = the undo file's block size): block 0 the header (512 bytes, crc32c over its
// first 508), then a super block copy, then key blocks each followed by the data their keys describe:
// a key block is {magic 0xCADECADE, crc32c of the block with this field zero, reserved, keys[]}, a key
// {fs block (in units of the header's fs_block_size), crc32c of the old bytes, size in bytes}; a key's
// data takes ceil(size / block_size) blocks. Every number is little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace torn::checker {

struct UndoRegion {
  uint64_t offset = 0;            // byte offset in the image
  std::vector<std::byte> bytes;   // what the image held there before e2fsck wrote
};

struct UndoRecord {
  bool finished = false;          // e2fsck closed the file system (E2UNDO_STATE_FINISHED)
  // In the order e2fsck saved them. A block is saved once per open of the file system, so when e2fsck
  // reopens it (it does after a journal replay) a later region may hold bytes an earlier one already
  // saved: the earliest region holds the original bytes.
  std::vector<UndoRegion> regions;
};

// Reads and verifies an undo file (magic, header and key block checksums, each key's data checksum).
// A missing or empty file is an empty, finished record: e2fsck wrote nothing. Errors name the file and
// the key.
Result<UndoRecord> ReadUndoFile(const std::string& path);

}  // namespace torn::checker
