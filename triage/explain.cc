#include "triage/explain.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>

#include <fmt/core.h>

#include "ext4/ext2_view.h"
#include "ext4/journal_map.h"
#include "oracles/durable.h"

namespace torn::triage {
namespace {

using ext4::Role;

// Inode numbers to paths on one file system: a walk of the tree from the root (bounded), then
// ext2fs_get_pathname for a directory the walk did not reach.
class Namer {
 public:
  explicit Namer(ext2_filsys fs) : fs_(fs) {
    if (fs_) Walk();
  }

  std::string PathOf(uint32_t ino) const {
    if (auto it = paths_.find(ino); it != paths_.end()) return it->second;
    static const std::map<uint32_t, std::string> kReserved = {
        {1, "the bad blocks inode"}, {7, "the resize inode"}, {8, "the journal inode"}};
    if (auto it = kReserved.find(ino); it != kReserved.end()) return it->second;
    if (fs_) {
      char* name = nullptr;
      if (ext2fs_get_pathname(fs_, ino, 0, &name) == 0 && name) {
        std::string s = name;
        ext2fs_free_mem(&name);
        if (s.find("???") == std::string::npos) return s;
      }
    }
    return fmt::format("inode {} (no path)", ino);
  }
  // The inodes in [first, last] that have a path, as "/p (12), /p/one (13)", at most `keep`.
  std::string Named(uint32_t first, uint32_t last, size_t keep = 3) const {
    std::string s;
    size_t n = 0, more = 0;
    for (auto it = paths_.lower_bound(first); it != paths_.end() && it->first <= last; ++it) {
      if (n++ < keep) s += fmt::format("{}{} ({})", s.empty() ? "" : ", ", it->second, it->first);
      else ++more;
    }
    if (more) s += fmt::format(", +{} more", more);
    return s;
  }
  ext2_filsys fs() const { return fs_; }

 private:
  struct Dir {
    uint32_t ino;
    std::string path;
  };
  void Walk() {
    paths_[EXT2_ROOT_INO] = "/";
    std::deque<Dir> queue{{EXT2_ROOT_INO, ""}};
    size_t budget = 100000;  // entries: a bound on the time a huge tree may take
    while (!queue.empty() && budget > 0) {
      Dir d = queue.front();
      queue.pop_front();
      struct Ctx {
        Namer* self;
        const Dir* dir;
        std::deque<Dir>* queue;
        size_t* budget;
      } ctx{this, &d, &queue, &budget};
      auto cb = [](ext2_ino_t, int, struct ext2_dir_entry* de, int, int, char*, void* p) -> int {
        auto* c = static_cast<Ctx*>(p);
        if (*c->budget == 0) return DIRENT_ABORT;
        --*c->budget;
        std::string name(de->name, ext2fs_dirent_name_len(de));
        if (de->inode == 0 || name == "." || name == "..") return 0;
        std::string path = c->dir->path + "/" + name;
        if (!c->self->paths_.emplace(de->inode, path).second) return 0;  // a hard link, or a loop
        int type = ext2fs_dirent_file_type(de);
        bool dir = type == EXT2_FT_DIR;
        if (type == EXT2_FT_UNKNOWN) {
          struct ext2_inode inode;
          dir = ext2fs_read_inode(c->self->fs_, de->inode, &inode) == 0 && LINUX_S_ISDIR(inode.i_mode);
        }
        if (dir) c->queue->push_back({de->inode, path});
        return 0;
      };
      (void)ext2fs_dir_iterate2(fs_, d.ino, 0, nullptr, cb, &ctx);  // a damaged directory: fewer names
    }
  }

  ext2_filsys fs_;
  std::map<uint32_t, std::string> paths_;
};

// The logical block of `block` in inode `ino`, when the inode maps it.
std::optional<uint64_t> LogicalBlock(ext2_filsys fs, uint32_t ino, uint64_t block) {
  struct Ctx {
    uint64_t want;
    std::optional<uint64_t> found;
  } ctx{block, std::nullopt};
  auto cb = [](ext2_filsys, blk64_t* nr, e2_blkcnt_t cnt, blk64_t, int, void* p) -> int {
    auto* c = static_cast<Ctx*>(p);
    if (cnt >= 0 && *nr == c->want) {
      c->found = uint64_t(cnt);
      return BLOCK_ABORT;
    }
    return 0;
  };
  if (!fs || ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, nullptr, cb, &ctx) != 0) return std::nullopt;
  return ctx.found;
}

// The roles of [first, first + count) as runs of one role and owner.
std::vector<BlockRun> Runs(const ext4::BlockRoles& roles, uint64_t first, uint64_t count) {
  std::vector<BlockRun> out;
  for (uint64_t b = first; b < first + count; ++b) {
    Role role = Role::kUnreferenced;
    uint32_t owner = 0;
    auto it = std::upper_bound(roles.extents.begin(), roles.extents.end(), b,
                               [](uint64_t x, const ext4::BlockExtent& e) { return x < e.first; });
    if (it != roles.extents.begin() && b < std::prev(it)->first + std::prev(it)->count) {
      role = std::prev(it)->role;
      owner = std::prev(it)->owner;
    }
    if (!out.empty() && out.back().role == role && out.back().owner == owner) ++out.back().count;
    else out.push_back({b, 1, role, owner, "", ""});
  }
  return out;
}

std::string Describe(const BlockRun& r, const Namer& names, uint32_t block_size) {
  ext2_filsys fs = names.fs();
  switch (r.role) {
    case Role::kSuperBlock: return r.owner ? fmt::format("super block (backup in group {})", r.owner) : "super block";
    case Role::kGroupDescriptors: return fmt::format("group descriptors (copy in group {})", r.owner);
    case Role::kBlockBitmap: return fmt::format("block bitmap of group {}", r.owner);
    case Role::kInodeBitmap: return fmt::format("inode bitmap of group {}", r.owner);
    case Role::kInodeTable: {
      if (!fs) return fmt::format("inode table of group {}", r.owner);
      uint64_t start = ext2fs_inode_table_loc(fs, r.owner);
      uint64_t per_block = block_size / EXT2_INODE_SIZE(fs->super);
      uint64_t lo = uint64_t(r.owner) * fs->super->s_inodes_per_group + (r.first - start) * per_block + 1;
      uint64_t hi = lo + r.count * per_block - 1;
      std::string named = names.Named(uint32_t(lo), uint32_t(hi));
      return fmt::format("inode table of group {}: inodes {}-{}{}", r.owner, lo, hi,
                         named.empty() ? " (none in use with a path)" : ": " + named);
    }
    case Role::kTreeBlock: return fmt::format("extent-tree block of {} (inode {})", names.PathOf(r.owner), r.owner);
    case Role::kXattrBlock: return fmt::format("xattr block of {} (inode {})", names.PathOf(r.owner), r.owner);
    case Role::kDirectory: return fmt::format("directory block of {} (inode {})", names.PathOf(r.owner), r.owner);
    case Role::kSymlink: return fmt::format("symlink block of {} (inode {})", names.PathOf(r.owner), r.owner);
    case Role::kSpecialData: return fmt::format("data of special inode {} ({})", r.owner, names.PathOf(r.owner));
    case Role::kRegularData:
    case Role::kReadFileData: {
      auto at = LogicalBlock(fs, r.owner, r.first);
      return fmt::format("data of {} (inode {}){}", names.PathOf(r.owner), r.owner,
                         at ? fmt::format(" at offset {}", *at * block_size) : "");
    }
    case Role::kJournalSuper: return "journal super block";
    case Role::kJournalMetadata: return "journal log";
    case Role::kJournalLog: return "journal log (empty after recovery)";
    case Role::kMmp: return "MMP block";
    case Role::kRead: return "metadata read by e2fsck";
    case Role::kUnreferenced: return "unreferenced block (free)";
  }
  return std::string(ext4::RoleName(r.role));
}

// The barrier rule of fua-barrier (docs/models.md): flush entries and FUA writes that change content.
bool IsBarrier(const trace::Entry& e) { return e.flush() || (e.fua() && e.changes_content()); }

void Place(const trace::Log& log, const ext4::JournalMap* map, WriteExplanation& w) {
  const size_t entry = w.entry;
  for (size_t i = entry; i-- > 0;)
    if (IsBarrier(log.entry(i))) {
      w.barrier_before = Neighbour{i, trace::FlagNames(log.entry(i).flags)};
      break;
    }
  for (size_t i = entry + 1; i <= w.crash_point && i < log.size(); ++i)
    if (IsBarrier(log.entry(i))) {
      w.barrier_after = Neighbour{i, trace::FlagNames(log.entry(i).flags)};
      break;
    }
  for (const trace::Mark& m : log.marks())
    if (m.entry < entry) w.mark = Neighbour{m.entry, m.name};
  if (!map) return;
  for (const auto& t : map->transactions) {
    if (t.commit == ext4::kNoEntry) continue;
    if (t.commit < entry && (!w.commit_before || t.commit > w.commit_before->entry))
      w.commit_before = Neighbour{t.commit, std::to_string(t.sequence)};
    if (t.commit > entry && (!w.commit_after || t.commit < w.commit_after->entry))
      w.commit_after = Neighbour{t.commit, std::to_string(t.sequence)};
  }
}

std::string CommitState(const std::optional<size_t>& commit, bool durable) {
  if (!commit) return "it never commits in the trace";
  return fmt::format("commit entry {}: {}", *commit, durable ? "durable" : "lost");
}

std::string JournalText(const JournalRole& j) {
  std::string tx = fmt::format("transaction {} (journal block {}; {})", j.transaction, j.journal_block,
                               CommitState(j.commit, j.commit_durable));
  if (j.kind == "commit") return fmt::format("commit block of transaction {} (journal block {})", j.transaction, j.journal_block);
  if (j.kind == "data") return fmt::format("journal copy of block {} ({}) in {}", j.home.value_or(0), j.home_what, tx);
  return fmt::format("{} block of {}", j.kind, tx);
}

// "commit entry 254: durable; not replayed: ..." — the transaction's state in the failing state.
std::string InPlaceState(const InPlace& p) {
  return CommitState(p.commit, p.commit_durable) + (p.recovery.empty() ? "" : "; " + p.recovery);
}

std::string InPlaceText(const InPlace& p) {
  std::string blocks;
  for (size_t k = 0; k < p.blocks.size() && k < 4; ++k) blocks += (k ? "," : "") + std::to_string(p.blocks[k]);
  if (p.blocks.size() > 4) blocks += fmt::format(",… ({} blocks)", p.blocks.size());
  return fmt::format("in-place write of block {}, journaled by transaction {} ({})", blocks, p.transaction,
                     InPlaceState(p));
}

// Whether recovery (ext4/recovery.h) replays transaction `tid` whose commit is durable: an in-place
// write it journaled is then repaired when lost. jbd2 sequence numbers wrap: compared as jbd2's
// tid_geq does, by the sign of the difference.
std::string ReplayText(const ext4::RecoveryResult& r, uint32_t tid) {
  auto geq = [](uint32_t x, uint32_t y) { return int32_t(x - y) >= 0; };
  switch (r.outcome) {
    case ext4::RecoveryOutcome::kNoJournal: return "not replayed: no journal";
    case ext4::RecoveryOutcome::kClean: return "not replayed: the journal is empty (clean) in the failing state";
    case ext4::RecoveryOutcome::kUnsupported: return "";
    case ext4::RecoveryOutcome::kReplayed: break;
  }
  if (geq(tid, r.start_tid) && !geq(tid, r.end_tid)) return "replayed by recovery";
  if (!geq(tid, r.start_tid))
    return fmt::format("not replayed: the journal super block starts the log at transaction {}", r.start_tid);
  return fmt::format("not replayed: recovery stops before it, at transaction {}", r.end_tid);
}

std::string WhenText(const WriteExplanation& w, bool compact) {
  std::vector<std::string> parts;
  if (w.mark) parts.push_back(compact ? fmt::format("after '{}'", w.mark->name)
                                      : fmt::format("after mark '{}' (entry {})", w.mark->name, w.mark->entry));
  else parts.push_back("before the first mark");
  if (!compact) {
    std::string from = w.barrier_before ? fmt::format("{} at entry {}", w.barrier_before->name, w.barrier_before->entry)
                                        : std::string("the start of the log");
    parts.push_back(w.barrier_after
                        ? fmt::format("barrier window from {} to {} at entry {}", from, w.barrier_after->name,
                                      w.barrier_after->entry)
                        : fmt::format("barrier window from {}, open at the crash (entry {})", from, w.crash_point));
  }
  auto tx = [](const Neighbour& n) { return fmt::format("{} (entry {})", n.name, n.entry); };
  if (w.commit_before && w.commit_after)
    parts.push_back(compact ? fmt::format("between commits {} and {}", w.commit_before->entry, w.commit_after->entry)
                            : fmt::format("between the commits of transactions {} and {}", tx(*w.commit_before),
                                          tx(*w.commit_after)));
  else if (w.commit_before)
    parts.push_back(fmt::format("after the last commit (transaction {})", tx(*w.commit_before)));
  else if (w.commit_after)
    parts.push_back(fmt::format("before the first commit (transaction {})", tx(*w.commit_after)));
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
  return s;
}

}  // namespace

Result<std::vector<WriteExplanation>> Explain(Rejudge& judge, const Minimized& m) {
  const checker::Setup& setup = judge.setup();
  const trace::Log& log = setup.log;
  const uint64_t ss = log.sectorsize();
  std::optional<ext4::JournalMap> own_map;
  const ext4::JournalMap* map = setup.ordering ? &setup.ordering->map() : nullptr;
  if (!map) {
    auto built = ext4::JournalMap::Build(log);
    if (built.ok()) map = &own_map.emplace(std::move(built).value());
  }
  oracles::DurableView durable(m.state);

  std::vector<WriteExplanation> out;
  for (const Lost& l : m.minimal) {
    WriteExplanation w;
    w.entry = l.entry;
    w.sector = l.sector;
    w.flags = trace::FlagNames(log.entry(l.entry).flags);
    w.byte_offset = log.entry_byte_offset(l.entry) + (l.sector ? *l.sector * ss : 0);
    w.bytes = l.sector ? ss : log.entry_bytes(l.entry);
    w.crash_point = m.state.crash_point;
    Place(log, map, w);
    out.push_back(std::move(w));
  }

  // Roles in the intended state (nothing lost), with names from its recovered image.
  models::CrashState intended = WithOnly(log, m.state, {});
  {
    TORN_ASSIGN_OR_RETURN(Rejudge::Recovered good, judge.Recover(intended));
    const ext4::BlockRoles& roles = good.analysis.roles;
    auto fs = ext4::OpenExt2(*good.view, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | EXT2_FLAG_IGNORE_CSUM_ERRORS);
    Namer names(fs.ok() ? fs->get() : nullptr);
    for (WriteExplanation& w : out) {
      if (roles.block_size) {
        uint64_t first = w.byte_offset / roles.block_size, last = (w.byte_offset + w.bytes - 1) / roles.block_size;
        w.blocks = Runs(roles, first, last - first + 1);
        for (BlockRun& r : w.blocks) r.what = Describe(r, names, roles.block_size);
        if (!roles.complete) w.blocks.front().what += fmt::format(" (the block-roles walk stopped: {})", roles.why);
      }
      if (!map) continue;
      // jbd2's view of the write, from the trace.
      auto home_role = [&](uint64_t home) {
        if (!roles.block_size) return std::string("role unknown");
        std::vector<BlockRun> hr = Runs(roles, home, 1);
        return Describe(hr.front(), names, roles.block_size);
      };
      auto commit = [&](const ext4::Transaction& t) {
        return t.commit == ext4::kNoEntry ? std::optional<size_t>() : std::optional<size_t>(t.commit);
      };
      auto durable_commit = [&](const ext4::Transaction& t) { return t.commit != ext4::kNoEntry && durable(t.commit); };
      for (const auto& t : map->transactions) {
        JournalRole base{.kind = "", .transaction = t.sequence, .commit = commit(t), .commit_durable = durable_commit(t)};
        if (t.commit == w.entry) {
          JournalRole j = base;
          j.kind = "commit";
          j.journal_block = t.commit_slot;
          w.journal.push_back(j);
        }
        for (const auto& [kind, blocks] : {std::pair{"descriptor", &t.descriptors}, std::pair{"revoke", &t.revokes}})
          for (const auto& d : *blocks)
            if (d.entry == w.entry) {
              JournalRole j = base;
              j.kind = kind;
              j.journal_block = d.slot;
              w.journal.push_back(j);
            }
        for (const auto& d : t.data)
          if (d.entry == w.entry) {
            JournalRole j = base;
            j.kind = "data";
            j.journal_block = d.slot;
            j.home = d.home;
            j.home_what = home_role(d.home);
            w.journal.push_back(j);
          }
      }
      for (const auto& ip : map->in_place) {
        if (ip.entry != w.entry) continue;
        const ext4::Transaction& t = map->transactions[ip.transaction];
        w.in_place.push_back({ip.blocks, t.sequence, commit(t), durable_commit(t)});
      }
    }
  }
  // Roles in the failing state's recovered image, where they differ; what its recovery replays.
  {
    TORN_ASSIGN_OR_RETURN(Rejudge::Recovered bad, judge.Recover(m.state));
    for (WriteExplanation& w : out)
      for (InPlace& p : w.in_place)
        if (p.commit_durable) p.recovery = ReplayText(bad.analysis.recovery, p.transaction);
    const ext4::BlockRoles& roles = bad.analysis.roles;
    auto fs = ext4::OpenExt2(*bad.view, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | EXT2_FLAG_IGNORE_CSUM_ERRORS);
    Namer names(fs.ok() ? fs->get() : nullptr);
    for (WriteExplanation& w : out)
      for (BlockRun& r : w.blocks) {
        if (!roles.block_size || roles.block_size != bad.analysis.roles.block_size) continue;
        std::vector<BlockRun> now = Runs(roles, r.first, r.count);
        if (now.size() == 1 && now.front().role == r.role && now.front().owner == r.owner) continue;
        std::string s;
        for (BlockRun& n : now) s += (s.empty() ? "" : "; ") + Describe(n, names, roles.block_size);
        r.in_failing_state = roles.complete ? s : "the block-roles walk stopped: " + roles.why;
      }
  }
  return out;
}

namespace {

nlohmann::json NeighbourJson(const std::optional<Neighbour>& n) {
  return n ? nlohmann::json{{"entry", n->entry}, {"name", n->name}} : nlohmann::json(nullptr);
}
std::optional<Neighbour> NeighbourFrom(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  return Neighbour{j.value("entry", size_t{0}), j.value("name", "")};
}
nlohmann::json OptJson(const std::optional<size_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json ToJson(const WriteExplanation& w) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& r : w.blocks) {
    nlohmann::json b = {{"first", r.first}, {"count", r.count}, {"role", std::string(ext4::RoleName(r.role))},
                        {"owner", r.owner}, {"what", r.what}};
    if (!r.in_failing_state.empty()) b["in_failing_state"] = r.in_failing_state;
    blocks.push_back(std::move(b));
  }
  nlohmann::json journal = nlohmann::json::array(), in_place = nlohmann::json::array();
  for (const auto& j : w.journal) {
    nlohmann::json o = {{"kind", j.kind},
                        {"transaction", j.transaction},
                        {"journal_block", j.journal_block},
                        {"commit", OptJson(j.commit)},
                        {"commit_durable", j.commit_durable},
                        {"text", JournalText(j)}};
    if (j.home) o["home"] = *j.home, o["home_what"] = j.home_what;
    journal.push_back(std::move(o));
  }
  for (const auto& p : w.in_place)
    in_place.push_back({{"blocks", p.blocks},
                        {"transaction", p.transaction},
                        {"commit", OptJson(p.commit)},
                        {"commit_durable", p.commit_durable},
                        {"recovery", p.recovery},
                        {"text", InPlaceText(p)}});
  return {{"entry", w.entry},
          {"sector", w.sector ? nlohmann::json(*w.sector) : nlohmann::json(nullptr)},
          {"flags", w.flags},
          {"byte_offset", w.byte_offset},
          {"bytes", w.bytes},
          {"blocks", blocks},
          {"journal", journal},
          {"in_place", in_place},
          {"crash_point", w.crash_point},
          {"mark", NeighbourJson(w.mark)},
          {"barrier_before", NeighbourJson(w.barrier_before)},
          {"barrier_after", NeighbourJson(w.barrier_after)},
          {"commit_before", NeighbourJson(w.commit_before)},
          {"commit_after", NeighbourJson(w.commit_after)},
          {"when", WhenText(w, false)}};
}

WriteExplanation WriteExplanationFromJson(const nlohmann::json& j) {
  WriteExplanation w;
  w.entry = j.value("entry", size_t{0});
  if (j.contains("sector") && j["sector"].is_number()) w.sector = j["sector"].get<uint32_t>();
  w.flags = j.value("flags", "");
  w.byte_offset = j.value("byte_offset", uint64_t{0});
  w.bytes = j.value("bytes", uint64_t{0});
  for (const auto& b : j.value("blocks", nlohmann::json::array()))
    w.blocks.push_back({b.value("first", uint64_t{0}), b.value("count", uint64_t{0}), ext4::Role::kUnreferenced,
                        b.value("owner", uint32_t{0}), b.value("what", ""), b.value("in_failing_state", "")});
  auto opt = [](const nlohmann::json& v) {
    return v.is_number() ? std::optional<size_t>(v.get<size_t>()) : std::optional<size_t>();
  };
  for (const auto& o : j.value("journal", nlohmann::json::array())) {
    JournalRole r{.kind = o.value("kind", ""),
                  .transaction = o.value("transaction", uint32_t{0}),
                  .journal_block = o.value("journal_block", uint64_t{0}),
                  .home = std::nullopt,
                  .home_what = o.value("home_what", ""),
                  .commit = opt(o.value("commit", nlohmann::json())),
                  .commit_durable = o.value("commit_durable", false)};
    if (o.contains("home")) r.home = o["home"].get<uint64_t>();
    w.journal.push_back(std::move(r));
  }
  for (const auto& o : j.value("in_place", nlohmann::json::array()))
    w.in_place.push_back({o.value("blocks", std::vector<uint64_t>{}), o.value("transaction", uint32_t{0}),
                          opt(o.value("commit", nlohmann::json())), o.value("commit_durable", false),
                          o.value("recovery", "")});
  w.crash_point = j.value("crash_point", size_t{0});
  w.mark = NeighbourFrom(j.value("mark", nlohmann::json()));
  w.barrier_before = NeighbourFrom(j.value("barrier_before", nlohmann::json()));
  w.barrier_after = NeighbourFrom(j.value("barrier_after", nlohmann::json()));
  w.commit_before = NeighbourFrom(j.value("commit_before", nlohmann::json()));
  w.commit_after = NeighbourFrom(j.value("commit_after", nlohmann::json()));
  return w;
}

std::string ToText(const WriteExplanation& w, const std::string& indent, size_t max_blocks) {
  std::string size = w.bytes % 1024 == 0 ? fmt::format("{} KiB", w.bytes / 1024) : fmt::format("{} bytes", w.bytes);
  std::string out = fmt::format("{}entry {}{} ({}, {} at byte {})", indent, w.entry,
                                w.sector ? fmt::format(" sector {}", *w.sector) : "", w.flags, size, w.byte_offset);
  for (size_t k = 0; k < w.blocks.size() && k < max_blocks; ++k) {
    const BlockRun& r = w.blocks[k];
    std::string range = r.count == 1 ? fmt::format("block {}", r.first)
                                     : fmt::format("blocks {}-{}", r.first, r.first + r.count - 1);
    out += fmt::format("{}{}: {}", k ? "\n" + indent + "  " : ": ", range, r.what);
    if (!r.in_failing_state.empty()) out += fmt::format(" [in the failing state: {}]", r.in_failing_state);
  }
  if (w.blocks.size() > max_blocks) out += fmt::format("\n{}  … {} more runs of blocks", indent, w.blocks.size() - max_blocks);
  out += "\n";
  for (size_t k = 0; k < w.journal.size() && k < 5; ++k) out += indent + "  jbd2: " + JournalText(w.journal[k]) + "\n";
  if (w.journal.size() > 5) out += fmt::format("{}  jbd2: … {} more journal blocks\n", indent, w.journal.size() - 5);
  for (const auto& p : w.in_place) out += indent + "  " + InPlaceText(p) + "\n";
  out += indent + "  when: " + WhenText(w, false) + "\n";
  return out;
}

std::string CompactText(const WriteExplanation& w) {
  std::string what;
  if (!w.journal.empty()) {
    what = "jbd2 " + JournalText(w.journal.front());
    if (w.journal.size() > 1) what += fmt::format(" (+{} journal blocks)", w.journal.size() - 1);
  } else if (!w.blocks.empty()) {
    const BlockRun& r = w.blocks.front();
    what = (r.count == 1 ? fmt::format("block {} ", r.first) : fmt::format("blocks {}-{} ", r.first, r.first + r.count - 1)) +
           r.what;
    if (w.blocks.size() > 1) what += fmt::format(" (+{} more runs)", w.blocks.size() - 1);
  }
  for (const auto& p : w.in_place)
    what += fmt::format("; in place, journaled by transaction {} ({})", p.transaction, InPlaceState(p));
  return fmt::format("entry {}{} {}: {}; {}", w.entry, w.sector ? fmt::format(" sector {}", *w.sector) : "", w.flags,
                     what, WhenText(w, true));
}

}  // namespace torn::triage
