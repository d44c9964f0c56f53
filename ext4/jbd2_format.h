// The jbd2 journal's on-disk format, as much of it as the ordering oracle and journal recovery
// (recovery.h) read (Linux include/linux/jbd2.h; e2fsprogs lib/ext2fs/kernel-jbd.h). Every field is
// big-endian.
//
//   block header (12 bytes)   h_magic 0xc03b3998 @0, h_blocktype @4, h_sequence @8
//   block types               1 descriptor, 2 commit, 3 superblock v1, 4 superblock v2, 5 revoke
//   superblock                s_blocksize @12, s_maxlen @16, s_first @20, s_sequence @24, s_start @28,
//                             s_errno @32, s_feature_compat @36, _incompat @40, _ro_compat @44,
//                             s_uuid @48, s_nr_users @64, s_checksum_type @80,
//                             s_num_fc_blks @84 (0: the default, 256), s_checksum @0xFC (crc32c of
//                             the 1024 bytes with this field zero)
//   descriptor                header, then tags until LAST_TAG or the block's end (less a 4-byte tail
//                             with csum v2/v3). Each tag names the home block of the next journal block:
//                             csum v3: t_blocknr @0, t_flags (32-bit) @4, t_blocknr_high @8, t_checksum @12
//                             else:    t_blocknr @0, t_checksum (16) @4, t_flags (16) @6,
//                                      t_blocknr_high @8 (64bit only);
//                             tag size: 16 with v3, else 12 + 2 (v2) - 4 (not 64bit). A 16-byte UUID
//                             follows a tag without SAME_UUID.
//   commit                    header, h_chksum_type @12, h_chksum_size @13, h_chksum[0] @16,
//                             h_commit_sec @48 (64-bit)
//   revoke                    header, r_count @12 (bytes used, header included), then block numbers of
//                             4 bytes (8 with 64bit) from byte 16
//
// Checksums and what recovery (fs/jbd2/recovery.c, do_one_pass) does with a journal block that does not
// hold what its transaction wrote:
//   COMPAT_CHECKSUM (v1)  the commit block holds a crc32 over the descriptor and data blocks; a mismatch
//                         ends recovery before that transaction (and sets j_failed_commit unless
//                         ASYNC_COMMIT): the stale block is never replayed.
//   INCOMPAT_CSUM_V2/V3   each tag holds its data block's checksum; a mismatch skips that block and
//                         recovery reports -EFSBADCRC: the stale block is never replayed.
//   none                  a stale data block is replayed onto its home location.
// A descriptor or revoke block that is stale ends the scan (wrong magic or sequence), whatever the
// features: the committed transaction, and all after it, silently vanish.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torn::ext4::jbd2 {

inline constexpr uint32_t kMagic = 0xc03b3998;
inline constexpr uint32_t kDescriptor = 1, kCommit = 2, kSuperV1 = 3, kSuperV2 = 4, kRevoke = 5;

inline constexpr uint32_t kCompatChecksum = 0x1;
inline constexpr uint32_t kIncompatRevoke = 0x1, kIncompat64Bit = 0x2, kIncompatAsyncCommit = 0x4,
                          kIncompatCsumV2 = 0x8, kIncompatCsumV3 = 0x10, kIncompatFastCommit = 0x20;

inline constexpr uint32_t kFlagEscape = 1, kFlagSameUuid = 2, kFlagDeleted = 4, kFlagLastTag = 8;
inline constexpr uint32_t kDefaultFastCommitBlocks = 256;

// Journal super block (journal_superblock_t, 1024 bytes, in journal block 0), byte offsets.
inline constexpr size_t kSuperBytes = 1024;
inline constexpr size_t kSbBlocksize = 12, kSbMaxlen = 16, kSbFirst = 20, kSbSequence = 24,
                        kSbStart = 28, kSbErrno = 32, kSbFeatureCompat = 36, kSbFeatureIncompat = 40,
                        kSbFeatureRoCompat = 44, kSbUuid = 48, kSbNrUsers = 64, kSbChecksumType = 80,
                        kSbNumFcBlocks = 84, kSbChecksum = 0xFC;
inline constexpr size_t kV1SuperBytes = 0x24;  // a v1 super block ends before s_feature_compat

// Commit block (commit_header): checksum type and size (v1 checksums), h_chksum[0], commit time.
inline constexpr size_t kCommitChecksumType = 12, kCommitChecksumSize = 13, kCommitChecksum = 16,
                        kCommitSeconds = 48;
inline constexpr uint8_t kChecksumCrc32 = 1, kChecksumCrc32c = 4;  // h_chksum_type, s_checksum_type
inline constexpr uint8_t kCrc32ChecksumSize = 4;
// Revoke block: r_count (bytes used, header included) @12, records from byte 16.
inline constexpr size_t kRevokeCount = 12, kRevokeRecords = 16;
// Descriptor and revoke blocks end with a 4-byte tail (crc32c) with csum v2/v3.
inline constexpr size_t kBlockTailBytes = 4;
// Tag fields common to every layout: t_blocknr @0, t_blocknr_high @8 (64bit); csum v3: t_flags (32)
// @4, t_checksum (32) @12; else t_checksum (16) @4, t_flags (16) @6.
inline constexpr size_t kTagFlags16 = 6, kTagBlocknrHigh = 8, kTag3Checksum = 12, kTag2Checksum = 4;

inline constexpr uint32_t kKnownIncompat = kIncompatRevoke | kIncompat64Bit | kIncompatAsyncCommit |
                                           kIncompatCsumV2 | kIncompatCsumV3 | kIncompatFastCommit;
inline constexpr uint32_t kMinJournalBlocks = 1024;  // JBD2_MIN_JOURNAL_BLOCKS

// Fast-commit blocks (ext4's area after the main log): a list of tag-length-value records, little-
// endian: fc_tag u16, fc_len u16, then fc_len bytes. A fast commit starts with a head tag whose value
// is {fc_features u32, fc_tid u32}.
inline constexpr uint16_t kFcTagHead = 0x0009;
inline constexpr uint32_t kFcSupportedFeatures = 0;

// Transaction ids compare modulo 2^32 (tid_gt, tid_geq).
inline bool TidGt(uint32_t x, uint32_t y) { return int32_t(x - y) > 0; }
inline bool TidGeq(uint32_t x, uint32_t y) { return int32_t(x - y) >= 0; }

inline uint32_t Be32(const std::byte* p) {
  return (uint32_t(uint8_t(p[0])) << 24) | (uint32_t(uint8_t(p[1])) << 16) |
         (uint32_t(uint8_t(p[2])) << 8) | uint32_t(uint8_t(p[3]));
}
inline uint16_t Be16(const std::byte* p) { return uint16_t((uint8_t(p[0]) << 8) | uint8_t(p[1])); }
inline uint64_t Be64(const std::byte* p) { return (uint64_t(Be32(p)) << 32) | Be32(p + 4); }
inline void PutBe32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (24 - 8 * i));
}

struct Features {
  uint32_t compat = 0, incompat = 0, ro_compat = 0;
  bool csum_v2or3() const { return incompat & (kIncompatCsumV2 | kIncompatCsumV3); }
  bool csum_v3() const { return incompat & kIncompatCsumV3; }
  bool is64() const { return incompat & kIncompat64Bit; }
  // Whether recovery notices a data block that is not what its transaction wrote.
  bool data_checksummed() const { return (compat & kCompatChecksum) || csum_v2or3(); }
  size_t tag_bytes() const {
    if (csum_v3()) return 16;
    size_t sz = 12 + (incompat & kIncompatCsumV2 ? 2 : 0);
    return is64() ? sz : sz - 4;
  }
  size_t tail_bytes() const { return csum_v2or3() ? 4 : 0; }
};

}  // namespace torn::ext4::jbd2
