#include "classes/unit_proof.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <fmt/core.h>

#include "ext4/jbd2_format.h"
#include "models/digest.h"

namespace torn::classes {
namespace {

using ext4::kSector;
namespace jbd2 = ext4::jbd2;

// A sector's content as the window's candidates see it: the hash of the first candidate met, and
// whether another one differs.
struct Seen {
  uint64_t hash = 0;
  bool disagree = false;
};

bool IsCommitHeader(std::span<const std::byte> first_sector, uint32_t* sequence) {
  if (first_sector.size() < 12) return false;
  if (jbd2::Be32(first_sector.data()) != jbd2::kMagic) return false;
  if (jbd2::Be32(first_sector.data() + 4) != jbd2::kCommit) return false;
  *sequence = jbd2::Be32(first_sector.data() + 8);
  return true;
}

}  // namespace

std::string_view UnitKindName(UnitKind k) {
  switch (k) {
    case UnitKind::kFree: return "free";
    case UnitKind::kReplayed: return "overwritten by journal replay";
    case UnitKind::kJournalTail: return "journal log past the last commit";
    case UnitKind::kUnread: return "not read (file data, unreferenced)";
    case UnitKind::kSame: return "same bytes in every candidate";
  }
  return "?";
}

Result<WindowFacts> BuildWindowFacts(const trace::Log& log, size_t segment, std::span<const models::Unit> units,
                                     ext4::ImageView& base, const std::vector<uint64_t>& journal_map,
                                     uint32_t block_size, std::span<const size_t> ordering_relevant) {
  WindowFacts f;
  f.segment = segment;
  f.block_size = block_size;
  f.journal_map = journal_map;
  const uint64_t ss = log.sectorsize();
  const uint64_t per_block = block_size ? block_size / kSector : 0;
  std::unordered_set<uint64_t> journal_blocks(journal_map.begin(), journal_map.end());
  auto journal_block_at = [&](uint64_t sector) -> std::optional<uint64_t> {
    if (!per_block || sector % per_block) return std::nullopt;  // not the first sector of a block
    uint64_t b = sector / per_block;
    if (!journal_blocks.count(b)) return std::nullopt;
    return b;
  };

  std::unordered_map<uint64_t, Seen> seen;
  std::vector<std::byte> data, base_bytes;
  size_t data_entry = static_cast<size_t>(-1);
  for (const models::Unit& u : units) {
    const trace::Entry& e = log.entry(u.entry);
    uint64_t start = log.entry_byte_offset(u.entry) + uint64_t(u.offset) * ss;
    uint64_t bytes = uint64_t(u.count) * ss;
    uint64_t first = start / kSector, end = (start + bytes + kSector - 1) / kSector;
    f.unit_sectors.emplace_back(first, end);
    f.ordering.push_back(std::binary_search(ordering_relevant.begin(), ordering_relevant.end(), u.entry));
    if (!e.discard() && data_entry != u.entry) {
      data.resize(log.entry_bytes(u.entry));
      TORN_RETURN_IF_ERROR(log.ReadData(u.entry, data).with_context(fmt::format("entry {}", u.entry)));
      data_entry = u.entry;
    }
    base_bytes.resize((end - first) * kSector);
    TORN_RETURN_IF_ERROR(base.Read(first * kSector, base_bytes).with_context(fmt::format("entry {}", u.entry)));
    std::vector<std::byte> zero(kSector);
    for (uint64_t x = first; x < end; ++x) {
      std::span<const std::byte> mine =
          e.discard() ? std::span<const std::byte>(zero)
                      : std::span<const std::byte>(data).subspan(x * kSector - log.entry_byte_offset(u.entry), kSector);
      std::span<const std::byte> old = std::span<const std::byte>(base_bytes).subspan((x - first) * kSector, kSector);
      auto [it, inserted] = seen.try_emplace(x);
      if (inserted) it->second.hash = models::SectorHash(old);
      if (models::SectorHash(mine) != it->second.hash) it->second.disagree = true;
      uint32_t seq = 0;
      if (auto jb = journal_block_at(x); jb && IsCommitHeader(mine, &seq)) f.commits.push_back({*jb, seq});
    }
  }
  for (const auto& [x, s] : seen)
    if (s.disagree) f.disagree.Add(x, 1);

  // Every journal block's content in the base, for commit headers.
  std::vector<std::byte> first_sector(kSector);
  for (uint64_t b : journal_map) {
    TORN_RETURN_IF_ERROR(base.Read(b * block_size, first_sector).with_context("journal block"));
    uint32_t seq = 0;
    if (IsCommitHeader(first_sector, &seq)) f.commits.push_back({b, seq});
  }
  return f;
}

std::vector<UnitProof> ProveUnits(const WindowFacts& facts, const Analysis& rep, std::span<const uint8_t> try_units) {
  std::vector<UnitProof> out(facts.unit_sectors.size());
  const ext4::RecoveryResult& r = rep.recovery;
  const bool scanned = r.outcome == ext4::RecoveryOutcome::kReplayed && r.log_start != 0;
  std::string stale_commit;
  if (scanned) {
    for (const auto& c : facts.commits) {
      if (c.sequence != r.end_tid) continue;
      uint64_t per_block = facts.block_size / kSector;
      if (rep.log_tail.Intersects(c.block * per_block, per_block)) {
        stale_commit = fmt::format("a commit block of transaction {} can be in the log at block {}, past "
                                   "the last commit: the scan could go on",
                                   c.sequence, c.block);
        break;
      }
    }
  }
  const bool same_journal = rep.recovery.journal_map == facts.journal_map;
  for (size_t u = 0; u < out.size(); ++u) {
    if (u >= try_units.size() || !try_units[u]) continue;
    UnitProof& p = out[u];
    if (!rep.reduced) {
      p.why = "the state is not reduced: " + rep.why_not;
      continue;
    }
    if (facts.ordering[u]) {
      p.why = "the ordering oracle depends on its durability";
      continue;
    }
    auto [lo, hi] = facts.unit_sectors[u];
    if (!same_journal && rep.journal.Intersects(lo, hi - lo)) {
      p.why = "the journal's block map differs from the window's";
      continue;
    }
    bool all_over = true, all_tail = true, any_read_meta = false;
    for (uint64_t x = lo; x < hi && p.why.empty(); ++x) {
      const bool tail = rep.log_tail.Contains(x);
      const bool disagree = facts.disagree.Contains(x);
      const bool over = rep.overwritten.Contains(x);
      const bool meta = rep.roles.metadata.Contains(x);
      const uint64_t block = facts.block_size ? x * kSector / facts.block_size : 0;
      if (tail && scanned && !stale_commit.empty()) {
        p.why = stale_commit;
      } else if (!tail && disagree && rep.pre_reads.Contains(x)) {
        p.why = fmt::format("journal recovery reads sector {} (block {}) and the window's writes differ there", x, block);
      } else if (!over && meta && disagree) {
        p.why = fmt::format("sector {} (block {}, {}) is metadata of the recovered image and the window's "
                            "writes differ there",
                            x, block, ext4::RoleName(rep.roles.RoleOf(block)));
      }
      all_over &= over;
      all_tail &= tail;
      any_read_meta |= meta && !over;
    }
    if (!p.why.empty()) continue;
    p.kind = all_over ? UnitKind::kReplayed
             : all_tail ? UnitKind::kJournalTail
             : !any_read_meta ? UnitKind::kUnread
                              : UnitKind::kSame;
    p.why = std::string(UnitKindName(p.kind));
  }
  return out;
}

}  // namespace torn::classes
