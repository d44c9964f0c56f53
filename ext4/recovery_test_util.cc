#include "ext4/recovery_test_util.h"

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.h"
#include "base/subprocess.h"
#include "ext4/ext2_view.h"
#include "ext4/jbd2_format.h"

namespace torn::ext4::testing {
namespace {

uint32_t Crc32c(uint32_t seed, const std::byte* p, size_t n) {
  return ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char*>(p), n);
}

void PutLe32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::byte(v >> (8 * i));
}

void PutBe16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v);
}

}  // namespace

Result<SyntheticJournal> SyntheticJournal::Make(const std::string& path, const MkfsOptions& o) {
  {
    TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_TRUNC));
    if (ftruncate(fd.get(), off_t(o.bytes)) != 0) return ErrnoError("ftruncate " + path, errno);
  }
  SpawnOptions s;
  s.argv = {"mke2fs", "-F", "-q", "-t", "ext4", "-b", std::to_string(o.block_size)};
  if (!o.features.empty()) s.argv.insert(s.argv.end(), {"-O", o.features});
  s.argv.push_back(path);
  s.env = {"LC_ALL=C"};
  TORN_ASSIGN_OR_RETURN(RunResult run, RunChild(s));
  if (!run.status.success())
    return Internal(QuoteArgv(s.argv) + ": " + run.status.describe() + "\n" + run.output);

  SyntheticJournal j;
  j.path_ = path;
  ext2_filsys fs = nullptr;
  if (errcode_t err = ext2fs_open(path.c_str(), EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
    return Internal("ext2fs_open " + path + ": " + Ext2Error(err));
  struct Closer {
    ext2_filsys fs;
    ~Closer() { ext2fs_close_free(&fs); }
  } closer{fs};
  j.bs_ = fs->blocksize;
  ext2_ino_t ino = fs->super->s_journal_inum;
  ext2_inode inode;
  if (!ino) return j;  // made without a journal
  if (ext2fs_read_inode(fs, ino, &inode)) return Internal(path + ": journal inode unreadable");
  uint64_t n = EXT2_I_SIZE(&inode) / j.bs_;
  for (uint64_t b = 0; b < n; ++b) {
    blk64_t phys = 0;
    if (errcode_t err = ext2fs_bmap2(fs, ino, &inode, nullptr, 0, b, nullptr, &phys))
      return Internal("bmap: " + Ext2Error(err));
    j.map_.push_back(phys);
  }
  if (errcode_t err = ext2fs_read_block_bitmap(fs)) return Internal("block bitmap: " + Ext2Error(err));
  for (blk64_t b = ext2fs_blocks_count(fs->super);
       b-- > fs->super->s_first_data_block && j.free_.size() < 64;)
    if (!ext2fs_test_block_bitmap2(fs->block_map, b)) j.free_.push_back(b);
  TORN_ASSIGN_OR_RETURN(auto sb, j.ReadJournalBlock(0));
  j.maxlen_ = jbd2::Be32(sb.data() + jbd2::kSbMaxlen);
  j.first_ = jbd2::Be32(sb.data() + jbd2::kSbFirst);
  j.pos_ = j.first_;
  j.uuid_.assign(sb.begin() + jbd2::kSbUuid, sb.begin() + jbd2::kSbUuid + 16);
  return j;
}

Result<std::vector<std::byte>> SyntheticJournal::ReadBlock(uint64_t block) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path_, O_RDONLY));
  std::vector<std::byte> b(bs_);
  TORN_RETURN_IF_ERROR(PreadFull(fd.get(), b, block * bs_));
  return b;
}

Result<std::vector<std::byte>> SyntheticJournal::ReadJournalBlock(uint32_t n) {
  if (n >= map_.size()) return Internal(fmt::format("journal block {} out of range", n));
  return ReadBlock(map_[n]);
}

Status SyntheticJournal::WriteJournalBlock(uint32_t n, const std::vector<std::byte>& bytes) {
  return WriteAt(n, bytes);
}

Status SyntheticJournal::WriteAt(uint32_t n, const std::vector<std::byte>& bytes) {
  if (n >= map_.size() || bytes.size() != bs_)
    return Internal(fmt::format("journal block {} out of range", n));
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path_, O_RDWR));
  return PwriteFull(fd.get(), bytes, map_[n] * bs_);
}

uint32_t SyntheticJournal::Next() {
  uint32_t at = pos_++;
  if (pos_ >= maxlen_) pos_ = first_;
  return at;
}

uint32_t SyntheticJournal::Seed() const { return Crc32c(~0u, uuid_.data(), 16); }

std::vector<std::byte> SyntheticJournal::Pattern(uint8_t fill) const {
  std::vector<std::byte> b(bs_, std::byte(fill));
  for (uint32_t i = 0; i < bs_; i += 64) b[i] = std::byte(uint8_t(i / 64));  // not all the same byte
  return b;
}

std::vector<std::byte> SyntheticJournal::StartsWithMagic(uint8_t fill) const {
  auto b = Pattern(fill);
  jbd2::PutBe32(b.data(), jbd2::kMagic);
  return b;
}

Status SyntheticJournal::SetSuper(uint32_t compat, uint32_t incompat, uint32_t start, uint32_t sequence) {
  compat_ = compat;
  incompat_ = incompat;
  TORN_ASSIGN_OR_RETURN(auto sb, ReadJournalBlock(0));
  jbd2::PutBe32(sb.data() + 4, jbd2::kSuperV2);
  jbd2::PutBe32(sb.data() + jbd2::kSbFeatureCompat, compat);
  jbd2::PutBe32(sb.data() + jbd2::kSbFeatureIncompat, incompat);
  jbd2::PutBe32(sb.data() + jbd2::kSbStart, start);
  jbd2::PutBe32(sb.data() + jbd2::kSbSequence, sequence);
  bool csum = incompat & (jbd2::kIncompatCsumV2 | jbd2::kIncompatCsumV3);
  sb[jbd2::kSbChecksumType] = std::byte(csum ? jbd2::kChecksumCrc32c : 0);
  TORN_RETURN_IF_ERROR(WriteAt(0, sb));
  return SetSuperField(jbd2::kSbStart, start);  // recomputes the checksum
}

Status SyntheticJournal::SetSuperField(size_t offset, uint32_t value) {
  TORN_ASSIGN_OR_RETURN(auto sb, ReadJournalBlock(0));
  jbd2::PutBe32(sb.data() + offset, value);
  if (incompat_ & (jbd2::kIncompatCsumV2 | jbd2::kIncompatCsumV3)) {
    jbd2::PutBe32(sb.data() + jbd2::kSbChecksum, 0);
    jbd2::PutBe32(sb.data() + jbd2::kSbChecksum, Crc32c(~0u, sb.data(), jbd2::kSuperBytes));
  }
  return WriteAt(0, sb);
}

Status SyntheticJournal::SetExt4Field32(size_t offset, uint32_t value) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path_, O_RDWR));
  std::byte sb[1024];
  TORN_RETURN_IF_ERROR(PreadFull(fd.get(), sb, 1024));
  PutLe32(sb + offset, value);
  uint32_t ro_compat = uint32_t(uint8_t(sb[0x64])) | uint32_t(uint8_t(sb[0x65])) << 8;
  if (ro_compat & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM) PutLe32(sb + 0x3FC, Crc32c(~0u, sb, 0x3FC));
  return PwriteFull(fd.get(), sb, 1024);
}

Status SyntheticJournal::SetNeedsRecovery(bool on) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path_, O_RDONLY));
  std::byte sb[1024];
  TORN_RETURN_IF_ERROR(PreadFull(fd.get(), sb, 1024));
  uint32_t incompat = 0;
  for (int i = 3; i >= 0; --i) incompat = (incompat << 8) | uint8_t(sb[0x60 + i]);
  incompat = on ? incompat | EXT3_FEATURE_INCOMPAT_RECOVER : incompat & ~EXT3_FEATURE_INCOMPAT_RECOVER;
  return SetExt4Field32(0x60, incompat);
}

Status SyntheticJournal::Descriptor(uint32_t sequence, const std::vector<Tag>& tags, bool bad_tail) {
  jbd2::Features f{compat_, incompat_, 0};
  if (crc_sequence_ != sequence) crc_sequence_ = sequence, running_crc_ = ~0u;
  std::vector<std::byte> d(bs_);
  jbd2::PutBe32(d.data(), jbd2::kMagic);
  jbd2::PutBe32(d.data() + 4, jbd2::kDescriptor);
  jbd2::PutBe32(d.data() + 8, sequence);
  std::vector<std::vector<std::byte>> stored;
  size_t off = 12;
  for (size_t i = 0; i < tags.size(); ++i) {
    const Tag& t = tags[i];
    std::vector<std::byte> data = t.data;
    uint32_t flags = i ? jbd2::kFlagSameUuid : 0;
    if (i + 1 == tags.size()) flags |= jbd2::kFlagLastTag;
    if (jbd2::Be32(data.data()) == jbd2::kMagic) {
      flags |= jbd2::kFlagEscape;
      std::memset(data.data(), 0, 4);
    }
    size_t need = f.tag_bytes() + (i ? 0 : 16);
    if (off + need > bs_ - f.tail_bytes()) return Internal("too many tags for one descriptor");
    std::byte seq[4];
    jbd2::PutBe32(seq, sequence);
    uint32_t csum = Crc32c(Crc32c(Seed(), seq, 4), data.data(), bs_);
    if (t.bad_checksum) csum ^= 0xFFFF;
    std::byte* tag = d.data() + off;
    jbd2::PutBe32(tag, uint32_t(t.home));
    if (f.csum_v3()) {
      jbd2::PutBe32(tag + 4, flags);
      jbd2::PutBe32(tag + 12, csum);
    } else {
      PutBe16(tag + 6, uint16_t(flags));
      if (f.csum_v2or3()) PutBe16(tag + 4, uint16_t(csum));
    }
    if (f.is64()) jbd2::PutBe32(tag + 8, uint32_t(t.home >> 32));
    off += f.tag_bytes();
    if (i == 0) {
      std::memcpy(d.data() + off, uuid_.data(), 16);
      off += 16;
    }
    stored.push_back(std::move(data));
  }
  if (f.csum_v2or3()) {
    jbd2::PutBe32(d.data() + bs_ - 4, Crc32c(Seed(), d.data(), bs_));
    if (bad_tail) d[bs_ - 1] ^= std::byte{1};
  }
  running_crc_ = ext2fs_crc32_be(running_crc_, reinterpret_cast<const unsigned char*>(d.data()), bs_);
  TORN_RETURN_IF_ERROR(WriteAt(Next(), d));
  for (const auto& data : stored) {
    running_crc_ = ext2fs_crc32_be(running_crc_, reinterpret_cast<const unsigned char*>(data.data()), bs_);
    TORN_RETURN_IF_ERROR(WriteAt(Next(), data));
  }
  return Status::Ok();
}

Status SyntheticJournal::Revoke(uint32_t sequence, const std::vector<uint64_t>& blocks, bool bad_tail) {
  jbd2::Features f{compat_, incompat_, 0};
  std::vector<std::byte> r(bs_);
  jbd2::PutBe32(r.data(), jbd2::kMagic);
  jbd2::PutBe32(r.data() + 4, jbd2::kRevoke);
  jbd2::PutBe32(r.data() + 8, sequence);
  size_t rec = f.is64() ? 8 : 4, off = jbd2::kRevokeRecords;
  for (uint64_t b : blocks) {
    if (off + rec > bs_ - f.tail_bytes()) return Internal("too many revoke records");
    if (rec == 8) {
      jbd2::PutBe32(r.data() + off, uint32_t(b >> 32));
      jbd2::PutBe32(r.data() + off + 4, uint32_t(b));
    } else {
      jbd2::PutBe32(r.data() + off, uint32_t(b));
    }
    off += rec;
  }
  jbd2::PutBe32(r.data() + jbd2::kRevokeCount, uint32_t(off));
  if (f.csum_v2or3()) {
    jbd2::PutBe32(r.data() + bs_ - 4, Crc32c(Seed(), r.data(), bs_));
    if (bad_tail) r[bs_ - 1] ^= std::byte{1};
  }
  return WriteAt(Next(), r);
}

Status SyntheticJournal::Commit(uint32_t sequence, uint64_t commit_seconds, bool bad_checksum) {
  jbd2::Features f{compat_, incompat_, 0};
  std::vector<std::byte> c(bs_);
  jbd2::PutBe32(c.data(), jbd2::kMagic);
  jbd2::PutBe32(c.data() + 4, jbd2::kCommit);
  jbd2::PutBe32(c.data() + 8, sequence);
  jbd2::PutBe32(c.data() + jbd2::kCommitSeconds, uint32_t(commit_seconds >> 32));
  jbd2::PutBe32(c.data() + jbd2::kCommitSeconds + 4, uint32_t(commit_seconds));
  if (f.compat & jbd2::kCompatChecksum) {
    uint32_t crc = crc_sequence_ == sequence ? running_crc_ : ~0u;
    c[jbd2::kCommitChecksumType] = std::byte(jbd2::kChecksumCrc32);
    c[jbd2::kCommitChecksumSize] = std::byte(jbd2::kCrc32ChecksumSize);
    jbd2::PutBe32(c.data() + jbd2::kCommitChecksum, bad_checksum ? ~crc : crc);
  } else if (f.csum_v2or3()) {
    uint32_t crc = Crc32c(Seed(), c.data(), bs_);
    jbd2::PutBe32(c.data() + jbd2::kCommitChecksum, bad_checksum ? ~crc : crc);
  }
  crc_sequence_ = sequence + 1;
  running_crc_ = ~0u;
  return WriteAt(Next(), c);
}

}  // namespace torn::ext4::testing
