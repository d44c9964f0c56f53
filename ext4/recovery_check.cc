#include "ext4/recovery_check.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "base/fd.h"
#include "base/sparse_file.h"
#include "base/temp_file.h"
#include "ext4/jbd2_format.h"

namespace torn::ext4 {
namespace {

struct Field {
  uint32_t offset, size;
  const char* name;
};

// struct ext2_super_block (lib/ext2fs/ext2_fs.h), offsets within the super block.
// clang-format off
constexpr Field kSuperFields[] = {
    {0x000, 4, "s_inodes_count"}, {0x004, 4, "s_blocks_count"}, {0x008, 4, "s_r_blocks_count"},
    {0x00C, 4, "s_free_blocks_count"}, {0x010, 4, "s_free_inodes_count"}, {0x014, 4, "s_first_data_block"},
    {0x018, 4, "s_log_block_size"}, {0x01C, 4, "s_log_cluster_size"}, {0x020, 4, "s_blocks_per_group"},
    {0x024, 4, "s_clusters_per_group"}, {0x028, 4, "s_inodes_per_group"}, {0x02C, 4, "s_mtime"},
    {0x030, 4, "s_wtime"}, {0x034, 2, "s_mnt_count"}, {0x036, 2, "s_max_mnt_count"},
    {0x038, 2, "s_magic"}, {0x03A, 2, "s_state"}, {0x03C, 2, "s_errors"},
    {0x03E, 2, "s_minor_rev_level"}, {0x040, 4, "s_lastcheck"}, {0x044, 4, "s_checkinterval"},
    {0x048, 4, "s_creator_os"}, {0x04C, 4, "s_rev_level"}, {0x050, 2, "s_def_resuid"},
    {0x052, 2, "s_def_resgid"}, {0x054, 4, "s_first_ino"}, {0x058, 2, "s_inode_size"},
    {0x05A, 2, "s_block_group_nr"}, {0x05C, 4, "s_feature_compat"}, {0x060, 4, "s_feature_incompat"},
    {0x064, 4, "s_feature_ro_compat"}, {0x068, 16, "s_uuid"}, {0x078, 16, "s_volume_name"},
    {0x088, 64, "s_last_mounted"}, {0x0C8, 4, "s_algorithm_usage_bitmap"}, {0x0CC, 1, "s_prealloc_blocks"},
    {0x0CD, 1, "s_prealloc_dir_blocks"}, {0x0CE, 2, "s_reserved_gdt_blocks"}, {0x0D0, 16, "s_journal_uuid"},
    {0x0E0, 4, "s_journal_inum"}, {0x0E4, 4, "s_journal_dev"}, {0x0E8, 4, "s_last_orphan"},
    {0x0EC, 16, "s_hash_seed"}, {0x0FC, 1, "s_def_hash_version"}, {0x0FD, 1, "s_jnl_backup_type"},
    {0x0FE, 2, "s_desc_size"}, {0x100, 4, "s_default_mount_opts"}, {0x104, 4, "s_first_meta_bg"},
    {0x108, 4, "s_mkfs_time"}, {0x10C, 68, "s_jnl_blocks"}, {0x150, 4, "s_blocks_count_hi"},
    {0x154, 4, "s_r_blocks_count_hi"}, {0x158, 4, "s_free_blocks_hi"}, {0x15C, 2, "s_min_extra_isize"},
    {0x15E, 2, "s_want_extra_isize"}, {0x160, 4, "s_flags"}, {0x164, 2, "s_raid_stride"},
    {0x166, 2, "s_mmp_update_interval"}, {0x168, 8, "s_mmp_block"}, {0x170, 4, "s_raid_stripe_width"},
    {0x174, 1, "s_log_groups_per_flex"}, {0x175, 1, "s_checksum_type"}, {0x176, 1, "s_encryption_level"},
    {0x177, 1, "s_reserved_pad"}, {0x178, 8, "s_kbytes_written"}, {0x180, 4, "s_snapshot_inum"},
    {0x184, 4, "s_snapshot_id"}, {0x188, 8, "s_snapshot_r_blocks_count"}, {0x190, 4, "s_snapshot_list"},
    {0x194, 4, "s_error_count"}, {0x198, 4, "s_first_error_time"}, {0x19C, 4, "s_first_error_ino"},
    {0x1A0, 8, "s_first_error_block"}, {0x1A8, 32, "s_first_error_func"}, {0x1C8, 4, "s_first_error_line"},
    {0x1CC, 4, "s_last_error_time"}, {0x1D0, 4, "s_last_error_ino"}, {0x1D4, 4, "s_last_error_line"},
    {0x1D8, 8, "s_last_error_block"}, {0x1E0, 32, "s_last_error_func"}, {0x200, 64, "s_mount_opts"},
    {0x240, 4, "s_usr_quota_inum"}, {0x244, 4, "s_grp_quota_inum"}, {0x248, 4, "s_overhead_clusters"},
    {0x24C, 8, "s_backup_bgs"}, {0x254, 4, "s_encrypt_algos"}, {0x258, 16, "s_encrypt_pw_salt"},
    {0x268, 4, "s_lpf_ino"}, {0x26C, 4, "s_prj_quota_inum"}, {0x270, 4, "s_checksum_seed"},
    {0x274, 1, "s_wtime_hi"}, {0x275, 1, "s_mtime_hi"}, {0x276, 1, "s_mkfs_time_hi"},
    {0x277, 1, "s_lastcheck_hi"}, {0x278, 1, "s_first_error_time_hi"}, {0x279, 1, "s_last_error_time_hi"},
    {0x27A, 1, "s_first_error_errcode"}, {0x27B, 1, "s_last_error_errcode"}, {0x27C, 2, "s_encoding"},
    {0x27E, 2, "s_encoding_flags"}, {0x280, 4, "s_orphan_file_inum"}, {0x284, 376, "s_reserved"},
    {0x3FC, 4, "s_checksum"},
};
// clang-format on

// journal_superblock_t (lib/ext2fs/kernel-jbd.h).
// clang-format off
constexpr Field kJournalSuperFields[] = {
    {0, 4, "h_magic"}, {4, 4, "h_blocktype"}, {8, 4, "h_sequence"}, {12, 4, "s_blocksize"},
    {16, 4, "s_maxlen"}, {20, 4, "s_first"}, {24, 4, "s_sequence"}, {28, 4, "s_start"},
    {32, 4, "s_errno"}, {36, 4, "s_feature_compat"}, {40, 4, "s_feature_incompat"},
    {44, 4, "s_feature_ro_compat"}, {48, 16, "s_uuid"}, {64, 4, "s_nr_users"}, {68, 4, "s_dynsuper"},
    {72, 4, "s_max_transaction"}, {76, 4, "s_max_trans_data"}, {80, 1, "s_checksum_type"},
    {81, 3, "s_padding2"}, {84, 4, "s_num_fc_blks"}, {88, 164, "s_padding"}, {252, 4, "s_checksum"},
    {256, 768, "s_users"},
};
// clang-format on

// struct ext4_group_desc.
// clang-format off
constexpr Field kDescFields[] = {
    {0, 4, "bg_block_bitmap"}, {4, 4, "bg_inode_bitmap"}, {8, 4, "bg_inode_table"},
    {12, 2, "bg_free_blocks_count"}, {14, 2, "bg_free_inodes_count"}, {16, 2, "bg_used_dirs_count"},
    {18, 2, "bg_flags"}, {20, 4, "bg_exclude_bitmap_lo"}, {24, 2, "bg_block_bitmap_csum_lo"},
    {26, 2, "bg_inode_bitmap_csum_lo"}, {28, 2, "bg_itable_unused"}, {30, 2, "bg_checksum"},
    {32, 4, "bg_block_bitmap_hi"}, {36, 4, "bg_inode_bitmap_hi"}, {40, 4, "bg_inode_table_hi"},
    {44, 2, "bg_free_blocks_count_hi"}, {46, 2, "bg_free_inodes_count_hi"}, {48, 2, "bg_used_dirs_count_hi"},
    {50, 2, "bg_itable_unused_hi"}, {52, 4, "bg_exclude_bitmap_hi"}, {56, 2, "bg_block_bitmap_csum_hi"},
    {58, 2, "bg_inode_bitmap_csum_hi"}, {60, 4, "bg_reserved"},
};
// clang-format on

template <size_t N>
const Field* FindField(const Field (&table)[N], uint64_t off) {
  for (const Field& f : table)
    if (off >= f.offset && off < f.offset + f.size) return &f;
  return nullptr;
}

bool Stamped(uint64_t off_in_super) {
  for (auto [o, n] : kStampedSuperFields)
    if (off_in_super >= o && off_in_super < o + n) return true;
  return false;
}

uint32_t Le(const std::byte* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// A field's value: little- or big-endian numbers up to 8 bytes, else the bytes in hex.
std::string Value(const std::byte* p, uint32_t size, bool big_endian) {
  if (size == 1 || size == 2 || size == 4 || size == 8) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < size; ++i) {
      uint32_t k = big_endian ? i : size - 1 - i;
      v = (v << 8) | uint8_t(p[k]);
    }
    return fmt::format("{:#0{}x}", v, 2 + 2 * size);
  }
  std::string s;
  for (uint32_t i = 0; i < std::min<uint32_t>(size, 32); ++i) s += fmt::format("{:02x}", uint8_t(p[i]));
  return s + (size > 32 ? "…" : "");
}

// Where things are, from the ext4 super block as it was before e2fsck (for naming differences only).
struct Layout {
  uint32_t bs = 0;
  uint64_t desc_first = 0, desc_blocks = 0;
  uint32_t desc_size = 32;
  uint64_t journal_super = UINT64_MAX;
};

Layout ReadLayout(const RecoveryResult& r, ImageView& before) {
  Layout l;
  l.bs = r.block_size;
  if (!r.journal_map.empty()) l.journal_super = r.journal_map[0];
  std::byte sb[1024];
  if (!before.Read(1024, sb).ok() || Le(sb + 0x38, 2) != 0xEF53 || l.bs == 0) return l;
  uint64_t blocks = Le(sb + 0x4, 4), bpg = Le(sb + 0x20, 4), first = Le(sb + 0x14, 4);
  bool is64 = Le(sb + 0x60, 4) & 0x80;  // INCOMPAT_64BIT
  if (is64) blocks |= uint64_t(Le(sb + 0x150, 4)) << 32;
  l.desc_size = is64 ? std::max<uint32_t>(Le(sb + 0xFE, 2), 32) : 32;
  if (bpg == 0 || l.desc_size > l.bs) return l;
  uint64_t groups = (blocks - first + bpg - 1) / bpg;
  l.desc_first = first + 1;
  l.desc_blocks = (groups * l.desc_size + l.bs - 1) / l.bs;
  return l;
}

}  // namespace

std::vector<std::string> FixedClockEnv() {
  return {std::string("LD_PRELOAD=") + kFakeTimeLibrary, std::string("FAKETIME=") + kFakeTime,
          "E2FSCK_CONFIG=/dev/null", "LC_ALL=C"};
}

Result<RunResult> RunE2fsckJournalOnly(const std::string& image, const std::string& undo_file,
                                       std::chrono::milliseconds timeout) {
  if (access(kFakeTimeLibrary, R_OK) != 0)
    return Unavailable(std::string(kFakeTimeLibrary) + " is missing (Debian package faketime)");
  SpawnOptions s;
  s.argv = {"e2fsck", "-E", "journal_only", "-y"};
  if (!undo_file.empty()) s.argv.insert(s.argv.end(), {"-z", undo_file});
  s.argv.push_back(image);
  s.env = FixedClockEnv();
  s.timeout = timeout;
  s.capture_limit = 16 << 10;
  return RunChild(s);
}

Result<E2fsckRecovery> RecoverWithE2fsck(const std::string& image, const std::string& scratch_dir) {
  TORN_ASSIGN_OR_RETURN(UniqueFd src, OpenFile(image, O_RDONLY));
  TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileSize(src.get()));
  TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-recovery-", scratch_dir));
  if (ftruncate(copy.fd(), off_t(bytes)) != 0) return ErrnoError("ftruncate " + copy.path(), errno);
  TORN_RETURN_IF_ERROR(SparseCopy(src.get(), copy.fd(), bytes));
  TORN_ASSIGN_OR_RETURN(RunResult run, RunE2fsckJournalOnly(copy.path()));
  E2fsckRecovery out;
  out.exit = run.status;
  out.output = std::move(run.output);
  // Compare in 1 KiB pieces (the smallest ext4 block): a region per piece that changed.
  constexpr uint64_t kPiece = 1024;
  std::vector<std::byte> a(1 << 20), b(1 << 20);
  for (uint64_t off = 0; off < bytes; off += a.size()) {
    uint64_t n = std::min<uint64_t>(a.size(), bytes - off);
    TORN_RETURN_IF_ERROR(PreadFull(src.get(), std::span(a).first(n), off));
    TORN_RETURN_IF_ERROR(PreadFull(copy.fd(), std::span(b).first(n), off));
    if (std::memcmp(a.data(), b.data(), n) == 0) continue;
    for (uint64_t p = 0; p < n; p += kPiece) {
      uint64_t m = std::min(kPiece, n - p);
      if (std::memcmp(a.data() + p, b.data() + p, m) == 0) continue;
      out.regions.push_back({off + p, std::vector<std::byte>(a.begin() + p, a.begin() + p + m),
                             std::vector<std::byte>(b.begin() + p, b.begin() + p + m)});
    }
  }
  return out;
}

std::string RecoveryDifference::text() const {
  return fmt::format("{} (byte {}): e2fsck {}, torn {}", where, offset, e2fsck, torn);
}

Result<std::vector<RecoveryDifference>> CompareRecovery(const RecoveryResult& result,
                                                        const E2fsckRecovery& e2fsck, ImageView& before) {
  std::vector<RecoveryDifference> diffs;
  if (result.outcome == RecoveryOutcome::kUnsupported) return diffs;
  if (!e2fsck.exit.success()) {
    std::string tail =
        e2fsck.output.size() > 400 ? e2fsck.output.substr(e2fsck.output.size() - 400) : e2fsck.output;
    diffs.push_back({0, "e2fsck's exit status", e2fsck.exit.describe() + " (" + tail + ")", "exit 0"});
  }
  const uint32_t bs = result.block_size ? result.block_size : 1024;
  // Blocks either side wrote.
  std::map<uint64_t, std::vector<std::byte>> mine, theirs;
  auto load = [&](std::map<uint64_t, std::vector<std::byte>>& m,
                  uint64_t block) -> Result<std::vector<std::byte>*> {
    auto it = m.find(block);
    if (it == m.end()) {
      std::vector<std::byte> buf(bs);
      TORN_RETURN_IF_ERROR(before.Read(block * bs, buf).with_context("the image before e2fsck"));
      it = m.emplace(block, std::move(buf)).first;
    }
    return &it->second;
  };
  for (const auto& w : result.writes) {
    if (w.bytes.size() != bs)
      return Internal(fmt::format("recovery write of block {} is not one block", w.block));
    TORN_ASSIGN_OR_RETURN(auto* buf, load(mine, w.block));
    *buf = w.bytes;
  }
  for (const auto& r : e2fsck.regions) {
    for (uint64_t off = r.offset; off < r.offset + r.after.size();) {
      uint64_t block = off / bs, end = std::min<uint64_t>((block + 1) * bs, r.offset + r.after.size());
      TORN_ASSIGN_OR_RETURN(auto* buf, load(theirs, block));
      std::memcpy(buf->data() + (off - block * bs), r.after.data() + (off - r.offset), end - off);
      off = end;
    }
  }
  for (const auto& [block, _] : mine) TORN_RETURN_IF_ERROR(load(theirs, block).status());
  for (const auto& [block, _] : theirs) TORN_RETURN_IF_ERROR(load(mine, block).status());

  Layout layout = ReadLayout(result, before);
  for (const auto& [block, want] : mine) {
    const std::vector<std::byte>& got = theirs.at(block);
    bool other_reported = false;
    for (uint32_t i = 0; i < bs;) {
      if (want[i] == got[i]) {
        ++i;
        continue;
      }
      uint64_t off = block * bs + i;
      RecoveryDifference d;
      d.offset = off;
      // Name the field the byte belongs to; report the whole field once.
      const Field* f = nullptr;
      uint64_t base = 0;
      bool big = false;
      std::string where;
      if (off >= 1024 && off < 2048) {
        if (Stamped(off - 1024)) {
          ++i;
          continue;
        }
        f = FindField(kSuperFields, off - 1024);
        base = 1024;
        where = "ext4 super block ";
      } else if (block == layout.journal_super && i < jbd2::kSuperBytes) {
        f = FindField(kJournalSuperFields, i);
        base = block * bs;
        big = true;
        where = "journal super block ";
      } else if (layout.desc_blocks && block >= layout.desc_first &&
                 block < layout.desc_first + layout.desc_blocks) {
        uint64_t rel = (block - layout.desc_first) * bs + i;
        uint64_t group = rel / layout.desc_size;
        f = FindField(kDescFields, rel % layout.desc_size);
        base = layout.desc_first * bs + group * layout.desc_size;
        where = fmt::format("group descriptor {} ", group);
      }
      if (f) {
        const uint64_t start = base + f->offset;
        const uint32_t in_block = uint32_t(start - block * bs);
        d.offset = start;
        d.where = where + f->name;
        if (in_block + f->size <= bs) {
          d.e2fsck = Value(got.data() + in_block, f->size, big);
          d.torn = Value(want.data() + in_block, f->size, big);
          i = in_block + f->size;
        } else {
          d.e2fsck = Value(got.data() + i, 1, big);
          d.torn = Value(want.data() + i, 1, big);
          ++i;
        }
        diffs.push_back(std::move(d));
        continue;
      }
      // Any other block (a home block of the replay): one difference per block.
      if (!other_reported) {
        uint32_t n = 0, last = i;
        for (uint32_t k = i; k < bs; ++k)
          if (want[k] != got[k]) ++n, last = k;
        uint32_t len = std::min<uint32_t>(16, bs - i);
        d.where = fmt::format("block {}: {} bytes differ in bytes {}..{}, the first 16 from byte {}", block,
                              n, i, last, i);
        d.e2fsck = Value(got.data() + i, len, false);
        d.torn = Value(want.data() + i, len, false);
        diffs.push_back(std::move(d));
        other_reported = true;
      }
      ++i;
    }
  }
  return diffs;
}

std::string DescribeDifferences(const std::vector<RecoveryDifference>& diffs, size_t max) {
  std::string s = fmt::format("{} difference{}", diffs.size(), diffs.size() == 1 ? "" : "s");
  for (size_t i = 0; i < diffs.size() && i < max; ++i) s += (i ? "; " : ": ") + diffs[i].text();
  if (diffs.size() > max) s += "; …";
  return s;
}

}  // namespace torn::ext4
