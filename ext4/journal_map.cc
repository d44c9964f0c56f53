#include "ext4/journal_map.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/core.h>

namespace torn::ext4 {
namespace {

uint32_t Le32(const std::byte* p) {
  return uint32_t(uint8_t(p[0])) | (uint32_t(uint8_t(p[1])) << 8) | (uint32_t(uint8_t(p[2])) << 16) |
         (uint32_t(uint8_t(p[3])) << 24);
}
uint16_t Le16(const std::byte* p) { return uint16_t(uint8_t(p[0]) | (uint8_t(p[1]) << 8)); }

// ext4 super block offsets (struct ext4_super_block).
constexpr uint64_t kSbOffset = 1024, kSbBytes = 1024;
constexpr size_t kSbMagic = 0x38, kSbLogBlockSize = 0x18, kSbJournalInum = 0xE0,
                 kSbJnlBackupType = 0xFD, kSbJnlBlocks = 0x10C;
constexpr uint8_t kJnlBackupBlocks = 1;

// The bytes [offset, offset+len) of the device after entries [0, upto) in log order.
Result<std::vector<std::byte>> ReadAsWritten(const trace::Log& log, uint64_t offset, uint64_t len,
                                             size_t upto) {
  std::vector<std::byte> out(len), scratch;
  for (size_t i = 0; i < upto; ++i) {
    const trace::Entry& e = log.entry(i);
    if (!e.changes_content()) continue;
    uint64_t a = log.entry_byte_offset(i), b = a + log.entry_bytes(i);
    uint64_t lo = std::max(a, offset), hi = std::min(b, offset + len);
    if (lo >= hi) continue;
    if (e.discard()) {
      std::fill(out.begin() + (lo - offset), out.begin() + (hi - offset), std::byte{0});
      continue;
    }
    scratch.resize(log.entry_bytes(i));
    TORN_RETURN_IF_ERROR(log.ReadData(i, scratch));
    std::copy(scratch.begin() + (lo - a), scratch.begin() + (hi - a), out.begin() + (lo - offset));
  }
  return out;
}

struct Layout {
  uint32_t block_size = 0;
  std::vector<uint64_t> physical;  // journal block -> file-system block
};

Status AddExtentNode(const trace::Log& log, const std::byte* node, size_t bytes, int depth_left,
                     uint32_t bs, std::vector<std::pair<uint64_t, uint64_t>>& logical_to_phys,
                     uint64_t want) {
  if (bytes < 12 || Le16(node) != 0xF30A) return BadInput("journal inode: bad extent header");
  uint16_t entries = Le16(node + 2), depth = Le16(node + 6);
  if (12 + size_t(entries) * 12 > bytes) return BadInput("journal inode: extent node overflows");
  if (depth > 5 || depth_left < 0) return BadInput("journal inode: extent tree too deep");
  for (uint16_t k = 0; k < entries; ++k) {
    const std::byte* p = node + 12 + 12 * k;
    uint32_t lblk = Le32(p);
    if (depth == 0) {
      uint32_t len = Le16(p + 4);
      if (len > 32768) len -= 32768;  // an unwritten extent
      uint64_t start = (uint64_t(Le16(p + 6)) << 32) | Le32(p + 8);
      for (uint32_t j = 0; j < len && lblk + j < want; ++j) logical_to_phys.push_back({lblk + j, start + j});
    } else {
      uint64_t leaf = (uint64_t(Le16(p + 8)) << 32) | Le32(p + 4);
      TORN_ASSIGN_OR_RETURN(auto child, ReadAsWritten(log, leaf * bs, bs, log.size()));
      TORN_RETURN_IF_ERROR(AddExtentNode(log, child.data(), child.size(), depth_left - 1, bs,
                                         logical_to_phys, want));
    }
  }
  return Status::Ok();
}

Status AddIndirect(const trace::Log& log, uint64_t block, int level, uint32_t bs, uint64_t& next,
                   uint64_t want, std::vector<std::pair<uint64_t, uint64_t>>& out) {
  if (block == 0 || next >= want) return Status::Ok();
  if (level == 0) {
    out.push_back({next++, block});
    return Status::Ok();
  }
  TORN_ASSIGN_OR_RETURN(auto b, ReadAsWritten(log, block * bs, bs, log.size()));
  for (uint32_t k = 0; k < bs / 4 && next < want; ++k)
    TORN_RETURN_IF_ERROR(AddIndirect(log, Le32(b.data() + 4 * k), level - 1, bs, next, want, out));
  return Status::Ok();
}

Result<Layout> FindJournal(const trace::Log& log) {
  // The last write that holds a whole, valid ext4 super block.
  std::vector<std::byte> sb, scratch;
  for (size_t i = log.size(); i-- > 0;) {
    const trace::Entry& e = log.entry(i);
    uint64_t a = log.entry_byte_offset(i), b = a + log.entry_bytes(i);
    if (!e.has_data() || a > kSbOffset || b < kSbOffset + kSbBytes) continue;
    scratch.resize(log.entry_bytes(i));
    TORN_RETURN_IF_ERROR(log.ReadData(i, scratch));
    const std::byte* p = scratch.data() + (kSbOffset - a);
    if (Le16(p + kSbMagic) != 0xEF53) continue;
    sb.assign(p, p + kSbBytes);
    break;
  }
  if (sb.empty()) return Unavailable(log.name() + ": no ext4 super block is written in the trace");
  Layout l;
  uint32_t log_bs = Le32(sb.data() + kSbLogBlockSize);
  if (log_bs > 6) return BadInput(log.name() + ": ext4 super block: bad s_log_block_size");
  l.block_size = 1024u << log_bs;
  if (Le32(sb.data() + kSbJournalInum) == 0)
    return Unavailable(log.name() + ": the file system has no internal journal");
  if (uint8_t(sb[kSbJnlBackupType]) != kJnlBackupBlocks)
    return Unavailable(log.name() + ": the super block holds no backup of the journal's blocks");
  const std::byte* iblock = sb.data() + kSbJnlBlocks;  // 15 words of i_block, i_size_high, i_size
  uint64_t size = (uint64_t(Le32(iblock + 60)) << 32) | Le32(iblock + 64);
  uint64_t want = size / l.block_size;
  if (want == 0 || want > (1u << 24)) return BadInput(log.name() + ": journal size out of range");
  std::vector<std::pair<uint64_t, uint64_t>> map;
  if (Le16(iblock) == 0xF30A) {
    TORN_RETURN_IF_ERROR(AddExtentNode(log, iblock, 60, 5, l.block_size, map, want)
                             .with_context(log.name()));
  } else {
    uint64_t next = 0;
    for (int k = 0; k < 12; ++k)
      TORN_RETURN_IF_ERROR(AddIndirect(log, Le32(iblock + 4 * k), 0, l.block_size, next, want, map));
    for (int level = 1; level <= 3; ++level)
      TORN_RETURN_IF_ERROR(
          AddIndirect(log, Le32(iblock + 4 * (11 + level)), level, l.block_size, next, want, map));
  }
  std::sort(map.begin(), map.end());
  l.physical.assign(want, 0);
  for (auto [lb, pb] : map)
    if (lb < want) l.physical[lb] = pb;
  return l;
}

// One pass over the entries in log order (the file's header comment, steps 2-4).
class Scanner {
 public:
  Scanner(const trace::Log& log, Layout layout) : log_(log), layout_(std::move(layout)) {
    for (uint64_t j = 0; j < layout_.physical.size(); ++j)
      if (layout_.physical[j]) slot_of_[layout_.physical[j]] = j;
    last_writer_.assign(layout_.physical.size(), kNoEntry);
  }

  Result<JournalMap> Run() {
    std::vector<std::byte> data;
    const uint32_t bs = layout_.block_size;
    for (size_t i = 0; i < log_.size(); ++i) {
      const trace::Entry& e = log_.entry(i);
      if (!e.changes_content()) continue;
      uint64_t a = log_.entry_byte_offset(i), len = log_.entry_bytes(i);
      if (!e.discard()) {
        data.resize(len);
        TORN_RETURN_IF_ERROR(log_.ReadData(i, data));
      }
      for (uint64_t blk = a / bs; blk * bs < a + len; ++blk) {
        bool whole = blk * bs >= a && (blk + 1) * bs <= a + len;
        const std::byte* p = whole && !e.discard() ? data.data() + (blk * bs - a) : nullptr;
        auto it = slot_of_.find(blk);
        if (it != slot_of_.end()) {
          last_writer_[it->second] = i;
          if (p) TORN_RETURN_IF_ERROR(JournalWrite(i, it->second, p));
        } else if (!e.discard()) {
          InPlace(i, blk);
        }
      }
    }
    JournalMap m;
    m.block_size = bs;
    m.journal_blocks = layout_.physical.size();
    m.transactions = std::move(txs_);
    m.in_place = std::move(in_place_);
    size_t committed = 0;
    for (const auto& t : m.transactions) committed += t.commit != kNoEntry;
    m.summary = fmt::format(
        "journal of {} blocks of {} bytes (first at block {}), {} transactions ({} committed), "
        "{} in-place writes of journaled blocks",
        m.journal_blocks, bs, layout_.physical.empty() ? 0 : layout_.physical[0],
        m.transactions.size(), committed, m.in_place.size());
    return m;
  }

 private:
  uint64_t Next(uint64_t slot) const {
    uint64_t n = slot + 1;
    if (n >= last_ && last_ > first_) n -= last_ - first_;
    return n;
  }

  size_t TxFor(uint32_t seq, bool starting) {
    auto it = open_.find(seq);
    if (it != open_.end() && !(starting && txs_[it->second].commit != kNoEntry)) return it->second;
    txs_.push_back({});
    txs_.back().sequence = seq;
    open_[seq] = txs_.size() - 1;
    return txs_.size() - 1;
  }

  Status JournalWrite(size_t entry, uint64_t slot, const std::byte* p) {
    const uint32_t bs = layout_.block_size;
    if (jbd2::Be32(p) != jbd2::kMagic) return Status::Ok();
    uint32_t type = jbd2::Be32(p + 4), seq = jbd2::Be32(p + 8);
    if (slot == 0) {
      if (type != jbd2::kSuperV1 && type != jbd2::kSuperV2) return Status::Ok();
      uint32_t maxlen = jbd2::Be32(p + 16), first = jbd2::Be32(p + 20);
      if (jbd2::Be32(p + 12) != bs || maxlen > layout_.physical.size() || first == 0 || first >= maxlen)
        return BadInput(fmt::format("{}: entry {}: journal super block with bad geometry", log_.name(), entry));
      features_ = {};
      if (type == jbd2::kSuperV2)
        features_ = {jbd2::Be32(p + 36), jbd2::Be32(p + 40), jbd2::Be32(p + 44)};
      first_ = first;
      last_ = maxlen;
      if (features_.incompat & jbd2::kIncompatFastCommit) {
        uint32_t fc = jbd2::Be32(p + 84);
        fc = fc ? fc : jbd2::kDefaultFastCommitBlocks;
        if (fc < last_ - first_) last_ -= fc;
      }
      return Status::Ok();
    }
    if (last_ == 0) return Status::Ok();  // no journal super block seen yet: cannot interpret
    switch (type) {
      case jbd2::kDescriptor: {
        size_t t = TxFor(seq, true);
        txs_[t].descriptors.push_back({entry, slot, 0});
        size_t tag_bytes = features_.tag_bytes(), limit = bs - features_.tail_bytes();
        uint64_t s = slot;
        for (size_t off = 12; off + tag_bytes <= limit;) {
          const std::byte* tag = p + off;
          uint64_t home = jbd2::Be32(tag);
          uint32_t flags = features_.csum_v3() ? jbd2::Be32(tag + 4) : jbd2::Be16(tag + 6);
          if (features_.is64()) home |= uint64_t(jbd2::Be32(tag + 8)) << 32;
          s = Next(s);
          txs_[t].data.push_back({kNoEntry, s, home});
          journaled_by_[home] = t;
          off += tag_bytes + ((flags & jbd2::kFlagSameUuid) ? 0 : 16);
          if (flags & jbd2::kFlagLastTag) break;
        }
        return Status::Ok();
      }
      case jbd2::kRevoke: {
        size_t t = TxFor(seq, true);
        txs_[t].revokes.push_back({entry, slot, 0});
        uint32_t count = jbd2::Be32(p + 12);
        size_t rec = features_.is64() ? 8 : 4;
        if (count > bs - features_.tail_bytes()) return Status::Ok();  // recovery refuses it too
        for (size_t off = 16; off + rec <= count; off += rec) {
          uint64_t b = jbd2::Be32(p + off);
          if (rec == 8) b = (b << 32) | jbd2::Be32(p + off + 4);
          journaled_by_.erase(b);
        }
        return Status::Ok();
      }
      case jbd2::kCommit: {
        size_t t = TxFor(seq, false);
        Transaction& tx = txs_[t];
        if (tx.commit != kNoEntry) return Status::Ok();
        tx.commit = entry;
        tx.commit_slot = slot;
        tx.features = features_;
        size_t hi = entry;
        for (auto& d : tx.data) {
          d.entry = last_writer_[d.slot];
          if (d.entry != kNoEntry) hi = std::max(hi, d.entry);
        }
        for (const auto& d : tx.descriptors) hi = std::max(hi, d.entry);
        for (const auto& r : tx.revokes) hi = std::max(hi, r.entry);
        tx.last_block_entry = hi;
        return Status::Ok();
      }
      default:
        return Status::Ok();
    }
  }

  void InPlace(size_t entry, uint64_t blk) {
    auto it = journaled_by_.find(blk);
    if (it == journaled_by_.end()) return;
    if (in_place_.empty() || in_place_.back().entry != entry || in_place_.back().transaction != it->second)
      in_place_.push_back({entry, it->second, {}});
    in_place_.back().blocks.push_back(blk);
  }

  const trace::Log& log_;
  Layout layout_;
  std::unordered_map<uint64_t, uint64_t> slot_of_;   // file-system block -> journal block
  std::vector<size_t> last_writer_;                  // journal block -> entry
  std::unordered_map<uint64_t, size_t> journaled_by_;  // home block -> transaction
  std::map<uint32_t, size_t> open_;                  // sequence -> latest transaction with it
  std::vector<Transaction> txs_;
  std::vector<InPlaceWrite> in_place_;
  jbd2::Features features_;
  uint64_t first_ = 0, last_ = 0;
};

}  // namespace

Result<JournalMap> JournalMap::Build(const trace::Log& log) {
  TORN_ASSIGN_OR_RETURN(Layout layout, FindJournal(log));
  Scanner s(log, std::move(layout));
  return s.Run();
}

}  // namespace torn::ext4
