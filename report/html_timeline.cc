// The timeline's facts, read from the trace (html.h, "Where the timeline's facts come from").
#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/core.h>

#include "base/fd.h"
#include "base/temp_file.h"
#include "ext4/image_view.h"
#include "ext4/journal_map.h"
#include "models/model.h"
#include "replayer/replay.h"
#include "report/html.h"

namespace torn::report {
namespace {

// Static structures belong to a group, inode roles to an inode; the journal's and free blocks to
// nobody worth naming.
std::string OwnerText(ext4::Role role, uint32_t owner) {
  using ext4::Role;
  switch (role) {
    case Role::kSuperBlock:
    case Role::kGroupDescriptors:
    case Role::kBlockBitmap:
    case Role::kInodeBitmap:
    case Role::kInodeTable: return fmt::format(" of group {}", owner);
    case Role::kTreeBlock:
    case Role::kXattrBlock:
    case Role::kDirectory:
    case Role::kSymlink:
    case Role::kSpecialData:
    case Role::kRegularData:
    case Role::kReadFileData: return fmt::format(" of inode {}", owner);
    default: return "";
  }
}

std::string BlockRange(uint64_t first, uint64_t count) {
  return count == 1 ? fmt::format("block {}", first) : fmt::format("blocks {}-{}", first, first + count - 1);
}

// The roles of blocks [first, first + count): one phrase per run of one role and owner (the first
// three, the rest counted), and the region holding most of the blocks.
void DescribeBlocks(const ext4::BlockRoles& roles, uint64_t first, uint64_t count, TimelineEntry& e) {
  const auto& ex = roles.extents;
  auto it = std::upper_bound(ex.begin(), ex.end(), first,
                             [](uint64_t b, const ext4::BlockExtent& x) { return b < x.first; });
  if (it != ex.begin()) --it;
  std::map<Region, uint64_t> by_region;
  std::vector<std::string> phrases;
  size_t runs = 0;
  const uint64_t end = first + count;
  for (; it != ex.end() && it->first < end; ++it) {
    uint64_t a = std::max(first, it->first), b = std::min(end, it->first + it->count);
    if (a >= b) continue;
    by_region[RegionOf(it->role)] += b - a;
    if (runs++ < 3)
      phrases.push_back(fmt::format("{}: {}{}", BlockRange(a, b - a), ext4::RoleName(it->role),
                                    OwnerText(it->role, it->owner)));
  }
  if (first + count > roles.blocks) {  // past the file system: nothing claims it
    uint64_t a = std::max(first, roles.blocks);
    by_region[Region::kFree] += end - a;
    if (runs++ < 3) phrases.push_back(fmt::format("{}: past the file system's end", BlockRange(a, end - a)));
  }
  if (runs > 3) phrases.push_back(fmt::format("and {} more runs", runs - 3));
  e.region = Region::kFree;
  uint64_t most = 0;
  for (const auto& [region, n] : by_region)
    if (n > most) most = n, e.region = region;
  for (size_t i = 0; i < phrases.size(); ++i) e.what += (i ? "; " : "") + phrases[i];
}

// The file system at the end of the trace: the whole log replayed onto a temporary image, walked.
Result<ext4::BlockRoles> FinalRoles(const trace::Log& log, const TimelineOptions& o) {
  TORN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("torn-report-", o.scratch_dir));
  const std::string image = dir.path() + "/final.img";
  replay::ReplayOptions ro;
  ro.device_bytes = o.image_bytes;
  TORN_ASSIGN_OR_RETURN(replay::ReplayResult replayed, replay::ReplayToImage(log, image, ro));
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(image, O_RDONLY | O_CLOEXEC));
  ext4::ImageView view(fd.get(), replayed.image_bytes);
  return ext4::ComputeBlockRoles(view);
}

// Appends a phrase to an entry's jbd2 description (a write may carry several journal blocks).
void AddJournal(std::vector<TimelineEntry>& entries, size_t entry, const std::string& what) {
  if (entry >= entries.size()) return;
  TimelineEntry& e = entries[entry];
  e.journal += (e.journal.empty() ? "" : "; ") + what;
  if (e.write || e.discard) e.region = Region::kJournal;
}

void AddJournalMap(const ext4::JournalMap& map, Timeline& t) {
  auto commit_text = [](const ext4::Transaction& x) {
    return x.commit == ext4::kNoEntry ? std::string("never committed in the trace")
                                      : fmt::format("commit at entry {}", x.commit);
  };
  for (const ext4::Transaction& x : map.transactions) {
    TimelineTransaction tt{.sequence = x.sequence, .first = x.commit, .commit = x.commit};
    auto blocks = [&](const std::vector<ext4::JournalBlock>& v, const char* kind) {
      for (const ext4::JournalBlock& b : v) {
        if (b.entry == ext4::kNoEntry) continue;
        tt.first = std::min(tt.first, b.entry);
        std::string home = std::string_view(kind) == "journal copy" ? fmt::format(" of block {}", b.home) : "";
        AddJournal(t.entries, b.entry,
                   fmt::format("{}{} of transaction {} (journal block {}; {})", kind, home, x.sequence, b.slot,
                               commit_text(x)));
      }
    };
    blocks(x.descriptors, "descriptor block");
    blocks(x.data, "journal copy");
    blocks(x.revokes, "revoke block");
    if (x.commit != ext4::kNoEntry)
      AddJournal(t.entries, x.commit, fmt::format("commit block of transaction {} (journal block {})", x.sequence,
                                                  x.commit_slot));
    if (tt.first != kNone) t.transactions.push_back(tt);
  }
  for (const ext4::InPlaceWrite& w : map.in_place) {
    if (w.entry >= t.entries.size() || w.transaction >= map.transactions.size()) continue;
    const ext4::Transaction& x = map.transactions[w.transaction];
    std::string blocks;
    for (size_t i = 0; i < w.blocks.size() && i < 4; ++i) blocks += (i ? "," : "") + std::to_string(w.blocks[i]);
    if (w.blocks.size() > 4) blocks += fmt::format(",… (+{})", w.blocks.size() - 4);
    TimelineEntry& e = t.entries[w.entry];
    e.journal += (e.journal.empty() ? "" : "; ") +
                 fmt::format("in place: block {} journaled by transaction {} ({})", blocks, x.sequence, commit_text(x));
  }
  std::sort(t.transactions.begin(), t.transactions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  t.journal_note = map.summary;
}

Status AddWindows(const trace::Log& log, const std::string& model, Timeline& t) {
  TORN_ASSIGN_OR_RETURN(models::ModelChoice choice, models::ParseModelChoice(model));
  models::SpaceOptions so;
  so.model = choice.kind;
  so.reorder = choice.reorder;
  so.max_states = 1;      // only the segments are wanted: no enumeration is planned beyond one state
  so.digests = false;
  TORN_ASSIGN_OR_RETURN(models::StateSpace space, models::StateSpace::Build(log, so));
  for (const models::Segment& s : space.segments()) {
    if (s.first > s.last) continue;  // an empty window (two barriers in a row)
    t.windows.push_back({.segment = s.index, .barrier = s.barrier, .first = s.first, .last = s.last,
                         .possible = s.possible.str()});
  }
  return Status::Ok();
}

}  // namespace

std::string_view RegionName(Region r) {
  switch (r) {
    case Region::kSuperBlock: return "super block";
    case Region::kGroupDescriptors: return "group descriptors";
    case Region::kBitmaps: return "bitmaps";
    case Region::kInodeTable: return "inode table";
    case Region::kDirectories: return "directories";
    case Region::kOtherMetadata: return "other metadata";
    case Region::kJournal: return "journal";
    case Region::kFileData: return "file data";
    case Region::kFree: return "free";
    case Region::kUnknown: return "unknown";
  }
  return "unknown";
}

Region RegionOf(ext4::Role role) {
  using ext4::Role;
  switch (role) {
    case Role::kSuperBlock: return Region::kSuperBlock;
    case Role::kGroupDescriptors: return Region::kGroupDescriptors;
    case Role::kBlockBitmap:
    case Role::kInodeBitmap: return Region::kBitmaps;
    case Role::kInodeTable: return Region::kInodeTable;
    case Role::kDirectory: return Region::kDirectories;
    case Role::kJournalLog:
    case Role::kJournalSuper:
    case Role::kJournalMetadata: return Region::kJournal;
    case Role::kRegularData:
    case Role::kReadFileData: return Region::kFileData;
    case Role::kUnreferenced: return Region::kFree;
    default: return Region::kOtherMetadata;
  }
}

Result<Timeline> BuildTimeline(const trace::Log& log, const TimelineOptions& o) {
  Timeline t;
  t.entries.reserve(log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    const trace::Entry& e = log.entry(i);
    TimelineEntry te{.index = i,
                     .flags = e.flags,
                     .byte_offset = log.entry_byte_offset(i),
                     .bytes = log.entry_bytes(i),
                     .write = e.has_data(),
                     .discard = e.discard() && e.nr_sectors > 0};
    if (e.mark()) te.mark = std::string(log.mark_name(e));
    t.entries.push_back(std::move(te));
  }

  auto roles = FinalRoles(log, o);
  if (!roles.ok()) return roles.status().with_context(log.name() + ": replaying the trace for its block roles");
  if (roles->complete && roles->block_size) {
    const uint64_t bs = roles->block_size;
    for (TimelineEntry& e : t.entries)
      if ((e.write || e.discard) && e.bytes)
        DescribeBlocks(*roles, e.byte_offset / bs, (e.byte_offset + e.bytes - 1) / bs - e.byte_offset / bs + 1, e);
    t.roles_note = fmt::format(
        "Regions are the block roles of the file system at the end of the trace ({} blocks of {} bytes): a "
        "block freed or reused during the trace shows its last role.", roles->blocks, bs);
  } else {
    t.roles_note = "Regions unknown: no ext4 file system could be read at the end of the trace (" + roles->why + ").";
  }

  auto map = ext4::JournalMap::Build(log);
  if (map.ok())
    AddJournalMap(*map, t);
  else
    t.journal_note = "no jbd2 transactions: " + map.status().message();

  if (Status st = AddWindows(log, o.model, t); !st.ok())
    return st.with_context(log.name() + ": the barrier windows of model " + o.model);
  return t;
}

}  // namespace torn::report
