// The dm-log-writes on-disk format, shared by the reader, the importer and the tests' log builder.
// The prose spec, with how the kernel decides what to log and when, is docs/log_format.md.
//
// All integers little-endian. S = sectorsize (the logged device's logical block size, 512 or 4096).
//
//   byte 0        super block: magic u64, version u64, nr_entries u64, sectorsize u32, zero padding
//   byte S        entry 0: one S-byte header sector, then its data
//   ...           entry i+1 follows entry i's data
//
//   entry header  offset 0  sector u64       first sector written, in S units
//                 offset 8  nr_sectors u64   length in S units (0 for flushes and marks)
//                 offset 16 flags u64        kFlush | kFua | kDiscard | kMark | kMetadata
//                 offset 24 data_len u64     a mark's name length; 0 otherwise
//                 offset 32 mark name        data_len bytes, no NUL, only for marks
//   entry data    nr_sectors * S bytes, except for discards and marks, which carry none.
//
// Invariants a valid log keeps (the reader checks each and names the entry that breaks it):
//   1. magic and version match; S is a power of two in [512, 65536].
//   2. nr_entries headers, each with its data, fit inside the file; nothing past them is read.
//   3. an entry with nr_sectors == 0 is a flush or a mark (the kernel logs no empty plain write).
//   4. a mark's name fits in its header sector: 32 + data_len <= S.
//   5. sector + nr_sectors does not overflow, and stays under the device size when one is known.
#pragma once

#include <cstdint>

namespace torn::trace {

inline constexpr uint64_t kLogMagic = 0x6a736677736872ULL;
inline constexpr uint64_t kLogVersion = 1;

inline constexpr uint64_t kFlagFlush = 1;     // REQ_PREFLUSH
inline constexpr uint64_t kFlagFua = 2;       // REQ_FUA
inline constexpr uint64_t kFlagDiscard = 4;   // REQ_OP_DISCARD
inline constexpr uint64_t kFlagMark = 8;      // a `dmsetup message ... mark NAME`
inline constexpr uint64_t kFlagMetadata = 16; // REQ_META
inline constexpr uint64_t kKnownFlags = 31;

// Byte offsets inside the super block and inside an entry header.
inline constexpr uint64_t kSuperMagic = 0, kSuperVersion = 8, kSuperNrEntries = 16,
                          kSuperSectorSize = 24, kSuperSize = 28;
inline constexpr uint64_t kEntrySector = 0, kEntryNrSectors = 8, kEntryFlags = 16,
                          kEntryDataLen = 24, kEntryMarkName = 32, kEntryHeaderSize = 32;

inline constexpr uint32_t kMinSectorSize = 512, kMaxSectorSize = 65536;

// The mark the target appends when it is torn down.
inline constexpr const char* kEndMark = "dm-log-writes-end";

// A bound on one entry's data (the kernel splits bios far below this); a larger length is damage, and
// the reader refuses it before allocating anything.
inline constexpr uint64_t kMaxEntryBytes = 1ULL << 30;

}  // namespace torn::trace
