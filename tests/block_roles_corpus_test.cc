// Block roles (ext4/block_roles.h) on real crash states of the corpus, against real e2fsck.
//
// For a sample of each trace's fua-barrier states after mkfs (every state of the smallest window of
// more than two states, plus seeded random states of the whole space): the state's image is built as
// torn check builds it (models::StateSpace, checker::StateImage), its journal replayed by real
// `e2fsck -E journal_only -y` on a copy, and the roles computed on that recovered image through a
// plain ImageView. Then:
//   - the walk is complete on every healthy state (e2fsck -fn exits 0 after the replay);
//   - random bytes over every sector the roles leave out leave `e2fsck -fn` exactly as it was: exit
//     code and output (the premise of the class key: what is masked, e2fsck does not read);
//   - the walk on the scribbled image gives the same metadata (it read only metadata).
// Counts of blocks per role are printed per trace. On the stack trace (ext4 on loop on ext4) the
// inner image is a regular file of the outer file system: unread unless the caller names it, and
// kReadFileData when it does (torn gate's backing file).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/temp_file.h"
#include "checker/state_image.h"
#include "ext4/block_roles.h"
#include "ext4/block_roles_testing.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::testing {
namespace {

namespace rt = torn::ext4::testing;

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

uint64_t DeviceBytes(const std::string& trace) {
  std::ifstream in(trace + "/trace.json");
  return nlohmann::json::parse(in).value("device_bytes", uint64_t{0});
}

struct Sample {
  size_t window = 0;                 // the segment sampled whole
  std::set<uint64_t> ids;            // state ids to check
};

// Every state of the smallest segment with more than two generated states, and `random` states drawn
// (seeded) from all the generated ones.
Sample Choose(const models::StateSpace& space, size_t random, uint64_t seed) {
  Sample s;
  uint64_t best = UINT64_MAX;
  for (const auto& seg : space.segments())
    if (seg.generated > 2 && seg.generated < best && seg.strategy == "exhaustive") {
      best = seg.generated;
      s.window = seg.index;
    }
  std::vector<uint64_t> all;
  Status st = space.ForEach([&](const models::CrashState& c) {
    if (c.segment == s.window && best <= 64) s.ids.insert(c.id);
    all.push_back(c.id);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  for (size_t i = 0; i < std::min(random, all.size()); ++i) s.ids.insert(all[i]);
  return s;
}

struct Totals {
  uint64_t states = 0, healthy = 0, complete = 0, scribbled_sectors = 0;
  std::map<ext4::Role, uint64_t> blocks;
};

// Checks the sample of one trace; returns what it saw.
Totals CheckTrace(const std::string& name, size_t random, const ext4::BlockRolesOptions& options = {}) {
  Totals t;
  std::string trace = Corpus(name);
  auto log = trace::Log::Open(trace);
  EXPECT_TRUE(log.ok()) << log.status().message();
  if (!log.ok()) return t;
  models::SpaceOptions so;
  so.from_entry = log->FindMark("mkfs");
  so.max_states = 4000;
  so.seed = 11;
  so.digests = false;
  auto space = models::StateSpace::Build(*log, so);
  EXPECT_TRUE(space.ok()) << space.status().message();
  if (!space.ok()) return t;
  Sample sample = Choose(*space, random, 23);
  auto dir = TempDir::Create("torn-roles-corpus-", "/dev/shm");
  EXPECT_TRUE(dir.ok());
  uint64_t bytes = checker::ImageBytes(*log, DeviceBytes(trace));
  auto image = checker::StateImage::Create(*log, bytes, dir->path());
  EXPECT_TRUE(image.ok()) << image.status().message();
  if (!image.ok()) return t;
  const std::string recovered = dir->path() + "/recovered.img", scribbled = dir->path() + "/scribbled.img";

  Status st = space->ForEach([&](const models::CrashState& s) -> Status {
    if (!sample.ids.count(s.id)) return Status::Ok();
    ++t.states;
    std::string what = name + " state " + std::to_string(s.id) + " (crash point " + std::to_string(s.crash_point) + ")";
    TORN_RETURN_IF_ERROR(image->MoveTo(s, &space->segments()[s.segment]));
    TORN_RETURN_IF_ERROR(rt::CopyImage(image->path(), recovered));
    TORN_ASSIGN_OR_RETURN(rt::FsckRun replay, rt::RunE2fsck({"-E", "journal_only", "-y"}, recovered));
    TORN_ASSIGN_OR_RETURN(ext4::BlockRoles roles, rt::RolesOfImage(recovered, options));
    TORN_ASSIGN_OR_RETURN(rt::FsckRun before, rt::RunE2fsck({"-fn"}, recovered));
    bool healthy = replay.code <= 1 && before.code == 0;
    t.healthy += healthy;
    t.complete += roles.complete;
    if (healthy) EXPECT_TRUE(roles.complete) << what << ": " << roles.why;
    if (!roles.complete) {  // nothing is masked: nothing to scribble
      std::printf("  %s: walk incomplete (e2fsck -fn exit %d): %s\n", what.c_str(), before.code, roles.why.c_str());
      return Status::Ok();
    }
    for (const auto& e : roles.extents) t.blocks[e.role] += e.count;

    TORN_RETURN_IF_ERROR(rt::CopyImage(recovered, scribbled));
    TORN_ASSIGN_OR_RETURN(uint64_t n, rt::ScribbleUnread(scribbled, roles, s.id));
    t.scribbled_sectors += n;
    TORN_ASSIGN_OR_RETURN(rt::FsckRun after, rt::RunE2fsck({"-fn"}, scribbled));
    EXPECT_EQ(after.code, before.code) << what;
    EXPECT_EQ(after.output, before.output) << what;
    TORN_ASSIGN_OR_RETURN(ext4::BlockRoles again, rt::RolesOfImage(scribbled, options));
    EXPECT_EQ(again.metadata.ranges(), roles.metadata.ranges()) << what;
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(t.states, sample.ids.size());
  EXPECT_GT(t.healthy, 0u) << name << ": no healthy state in the sample";
  EXPECT_GT(t.scribbled_sectors, 0u);

  std::printf("%s: %llu states (window %zu whole + random), %llu healthy, %llu walks complete, "
              "%.1f MiB scribbled in all\n",
              name.c_str(), (unsigned long long)t.states, sample.window, (unsigned long long)t.healthy,
              (unsigned long long)t.complete, double(t.scribbled_sectors) * ext4::kSector / (1 << 20));
  for (const auto& [role, n] : t.blocks)
    std::printf("  %10.1f blocks per state: %s\n", double(n) / double(std::max<uint64_t>(1, t.complete)),
                ext4::RoleName(role).data());
  return t;
}

TEST(BlockRolesCorpus, DefaultExt4) { CheckTrace("ext4-default", 60); }
TEST(BlockRolesCorpus, LongWorkload) { CheckTrace("ext4-long", 30); }
TEST(BlockRolesCorpus, FourKSectors) { CheckTrace("ext4-4k", 40); }
TEST(BlockRolesCorpus, DataJournal) { CheckTrace("ext4-data-journal", 60); }
TEST(BlockRolesCorpus, FastCommit) { CheckTrace("ext4-fast-commit", 60); }

TEST(BlockRolesCorpus, Ext4OnLoopOnExt4) {
  Totals plain = CheckTrace("ext4-on-loop-on-ext4", 40);
  // The inner image is one regular file of the outer file system: its data is most of what is
  // written, and unread by the outer e2fsck.
  EXPECT_GT(plain.blocks[ext4::Role::kRegularData], 0u);
  // Named as the caller's file (torn gate reads it), it is metadata, and the property still holds.
  Totals named = CheckTrace("ext4-on-loop-on-ext4", 16, {.read_files = {"inner.img"}});
  EXPECT_GT(named.blocks[ext4::Role::kReadFileData], 0u);
}

}  // namespace
}  // namespace torn::testing
