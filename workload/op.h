// The workload language of `torn fuzz` (docs/fuzz.md): one operation per line, read by people, written
// by the generator, executed in the lab VM by torn's own runner (workload/runner.cc).
//
//   creat PATH                       open(O_CREAT|O_WRONLY), close
//   write PATH OFF LEN               buffered pwrite of LEN bytes at OFF
//   pwrite PATH OFF LEN [direct] [sync]   the same through O_DIRECT and/or O_SYNC
//   truncate PATH SIZE
//   falloc PATH OFF LEN [keep|punch|zero] fallocate: none (extends the size), FALLOC_FL_KEEP_SIZE,
//                                    PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE
//   link PATH NEW     symlink TARGET NEW     rename PATH NEW     unlink PATH
//   mkdir PATH        rmdir PATH
//   setxattr PATH NAME VALUE         removexattr PATH NAME
//   fsync PATH        fdatasync PATH        sync        syncfs
//
// Blank lines and lines starting with '#' are ignored. PATH is relative to the file system's root:
// components of [A-Za-z0-9._-], never "." or ".." (except the root itself, ".", for fsync and
// fdatasync of the root directory); at most 255 bytes. Numbers are decimal, at most 2^40. The bytes a
// write puts at file offset o are DataByte(line's op index, o): every write is told apart by content.
//
// Invariants: Parse(Print(w)) == w for every w Parse accepts; Print writes one canonical line per op.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace torn::workload {

enum class OpKind {
  kCreat, kWrite, kPwrite, kTruncate, kFalloc, kLink, kSymlink, kRename, kUnlink, kMkdir, kRmdir,
  kSetxattr, kRemovexattr, kFsync, kFdatasync, kSync, kSyncfs,
};

enum class FallocMode { kDefault, kKeepSize, kPunchHole, kZeroRange };

struct Op {
  OpKind kind = OpKind::kSync;
  std::string path;    // the file (symlink: the link's target text)
  std::string path2;   // link, symlink, rename: the new name; setxattr/removexattr: the xattr name
  std::string value;   // setxattr: the value
  uint64_t offset = 0; // write, pwrite, falloc; truncate: the size
  uint64_t length = 0; // write, pwrite, falloc
  bool direct = false, sync = false;  // pwrite
  FallocMode falloc = FallocMode::kDefault;
  bool operator==(const Op&) const = default;
};

using Workload = std::vector<Op>;

inline constexpr uint64_t kMaxNumber = 1ull << 40;
inline constexpr size_t kMaxPath = 255;

// Errors name the line: "line 3: write: expected PATH OFF LEN".
Result<Workload> Parse(std::string_view text);
std::string Print(const Workload& w);
std::string PrintOp(const Op& op);

const char* OpName(OpKind k);

// fsync, fdatasync, sync, syncfs, and pwrite with direct or sync: each is followed by a mark.
bool IsPersistence(const Op& op);

// The byte the op with index `op_index` writes at file offset `offset`: never 0 (a hole reads 0).
inline uint8_t DataByte(size_t op_index, uint64_t offset) {
  return static_cast<uint8_t>(1 + (op_index * 37 + offset / 512) % 255);
}

// The mark after op `op_index` (0-based): "op<index+1>-<name>", e.g. "op2-fsync".
std::string MarkName(size_t op_index, const Op& op);

}  // namespace torn::workload
