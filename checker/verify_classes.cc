#include "checker/verify_classes.h"

#include <algorithm>
#include <map>
#include <random>

#include <fmt/core.h>

#include "checker/result.h"
#include "ext4/image_view.h"
#include "ext4/recovery_check.h"
#include "oracles/durable.h"

namespace torn::checker {
namespace {

using oracles::DurableView;

// A class and the stored states that carry its key.
struct ClassMembers {
  const store::StoredState* owner = nullptr;  // the state whose verdicts the class got
  std::vector<const store::StoredState*> members;
};


const store::StoredVerdict* FsckVerdict(const store::StoredState& s) {
  for (const auto& v : s.verdicts)
    if (v.oracle == "fsck") return &v;
  return nullptr;
}

std::string Describe(const models::CrashState& st) {
  std::vector<size_t> d = st.dropped;
  std::string list;
  for (size_t i = 0; i < d.size() && i < 12; ++i) list += (i ? "," : "") + std::to_string(d[i]);
  if (d.size() > 12) list += fmt::format(",...(+{})", d.size() - 12);
  return fmt::format("the state at crash point {} with entries [{}] dropped", st.crash_point, list);
}

// Where two states' class keys part (class_key.h's order): what recovery concluded, what it read of
// the images before replaying, or the recovered images' metadata; as "block B (role), sector S".
Result<std::string> FirstDifference(int a_fd, ext4::ImageView& a_view, const classes::Analysis& a, int b_fd,
                                    ext4::ImageView& b_view, const classes::Analysis& b) {
  const auto& ra = a.recovery;
  const auto& rb = b.recovery;
  if (ra.outcome != rb.outcome || ra.error != rb.error || ra.failed_commit != rb.failed_commit)
    return fmt::format("what journal recovery concluded ({} / {}, error {} / {})", ext4::OutcomeName(ra.outcome),
                       ext4::OutcomeName(rb.outcome), ra.error, rb.error);
  auto where = [&](uint64_t s, const char* what) {
    uint64_t block = ra.block_size ? s * ext4::kSector / ra.block_size : 0;
    return fmt::format("{}: block {} ({}), sector {}", what, block, ext4::RoleName(a.roles.RoleOf(block)), s);
  };
  std::vector<std::byte> x(ext4::kSector), y(ext4::kSector);
  ext4::ImageView a_pre(a_fd, a_view.bytes()), b_pre(b_fd, b_view.bytes());  // no overlay: before recovery
  for (const ext4::SectorSet* reads : {&a.pre_reads, &b.pre_reads})
    for (auto [lo, hi] : reads->ranges())
      for (uint64_t s = lo; s < hi; ++s) {
        if (a.journal.Contains(s)) continue;
        TORN_RETURN_IF_ERROR(a_pre.Read(s * ext4::kSector, x));
        TORN_RETURN_IF_ERROR(b_pre.Read(s * ext4::kSector, y));
        if (x != y) return where(s, "what recovery read before replaying");
      }
  if (a.roles.metadata.ranges() != b.roles.metadata.ranges()) return std::string("the set of metadata blocks");
  for (auto [lo, hi] : a.roles.metadata.ranges())
    for (uint64_t s = lo; s < hi; ++s) {
      TORN_RETURN_IF_ERROR(a_view.Read(s * ext4::kSector, x));
      TORN_RETURN_IF_ERROR(b_view.Read(s * ext4::kSector, y));
      if (x != y) return where(s, "the recovered image's metadata");
    }
  return std::string("the data rule, or a super block field e2fsck stamps");
}

}  // namespace

Result<uint64_t> VerifyClasses(Context& c, uint64_t per_class) {
  std::map<std::string, ClassMembers> classes;
  for (const auto& s : c.results) {
    if (s.class_key.empty() || s.digest.empty()) continue;
    auto& cls = classes[s.class_key];
    cls.members.push_back(&s);
    if (!s.reused_from) cls.owner = &s;
  }
  TORN_ASSIGN_OR_RETURN(StateImage image, StateImage::Create(c.setup->log, c.setup->image_bytes, c.options->scratch_dir));
  TORN_ASSIGN_OR_RETURN(StateImage other, StateImage::Create(c.setup->log, c.setup->image_bytes, c.options->scratch_dir));
  std::mt19937_64 rng(c.options->space.seed);
  const oracles::DataPlan* data = c.setup->data ? &*c.setup->data : nullptr;
  auto analyze = [&](StateImage& img, ext4::ImageView& view, const models::CrashState& st) -> Result<classes::Analysis> {
    oracles::DataPlan::Applies applies;
    if (data) applies = data->For(DurableView(st));
    return classes::Analyze(view, {.read_files = classes::ReadFiles(data, st.crash_point, {}),
                                   .data_key = applies.key(),
                                   .raw_digest = img.digest()});
  };
  uint64_t verified = 0;
  for (const auto& [key, cls] : classes) {
    if (!cls.owner) continue;  // judged in an earlier run whose owner is not among these states
    for (uint64_t n = 0; n < per_class; ++n) {
      // A random member: a random state of the class, a random subset of the entries it stands in for.
      const store::StoredState& from = *cls.members[rng() % cls.members.size()];
      models::CrashState st = StateFromStore(from);
      for (uint64_t e : from.fixed)
        if (rng() & 1) st.dropped.push_back(e);
      std::sort(st.dropped.begin(), st.dropped.end());
      st.dropped.erase(std::unique(st.dropped.begin(), st.dropped.end()), st.dropped.end());
      // The previous segment's state and a split-off exact state stand in no member's set: skip them.
      if (data && st.dropped != from.dropped && data->For(DurableView(st)).exact) continue;
      bool all_dropped = true;
      for (const models::Unit& u : c.states->units(st.segment))
        all_dropped &= std::binary_search(st.dropped.begin(), st.dropped.end(), u.entry);
      if (all_dropped && !from.fixed.empty()) continue;

      const std::string what = Describe(st);
      TORN_RETURN_IF_ERROR(image.MoveTo(st, &c.states->segments()[st.segment]));
      ext4::ImageView view(image.fd(), image.bytes());
      TORN_ASSIGN_OR_RETURN(classes::Analysis mine, analyze(image, view, st));
      if (mine.key.Hex() != key) {
        // Name the region: the owner's recovered image next to this member's.
        models::CrashState owner = StateFromStore(*cls.owner);
        TORN_RETURN_IF_ERROR(other.MoveTo(owner, &c.states->segments()[owner.segment]));
        ext4::ImageView owner_view(other.fd(), other.bytes());
        TORN_ASSIGN_OR_RETURN(classes::Analysis theirs, analyze(other, owner_view, owner));
        TORN_ASSIGN_OR_RETURN(std::string where,
                              FirstDifference(image.fd(), view, mine, other.fd(), owner_view, theirs));
        return BadInput(fmt::format("--verify-classes: {} is a member of class {} (stands in for state {}) but its "
                                    "key is {}: it differs from the class's state {} in {}",
                                    what, key, from.state_id, mine.key.Hex(), cls.owner->state_id, where));
      }
      if (!mine.reduced) {
        // A state torn could not reduce is its own class (its key is its image's): equal keys are
        // equal images, and there is no in-process recovery to hold against e2fsck's.
        ++verified;
        continue;
      }
      // Real journal replay under a fixed clock, byte for byte against the in-process recovery.
      ext4::E2fsckRecovery real;
      TORN_ASSIGN_OR_RETURN(RunResult run, ext4::RunE2fsckJournalOnly(image.path(), image.undo_path()));
      real.exit = run.status;
      real.output = run.output;
      TORN_ASSIGN_OR_RETURN(auto runs, image.Runs());
      if (!runs) return Internal(fmt::format("--verify-classes: {}: e2fsck left no usable undo record", what));
      for (auto& r : *runs) real.regions.push_back({r.offset, std::move(r.before), std::move(r.now)});
      view.ClearOverlay();
      TORN_ASSIGN_OR_RETURN(auto diffs, ext4::CompareRecovery(mine.recovery, real, view));
      if (!diffs.empty()) {
        (void)image.Restore();
        return BadInput(fmt::format("--verify-classes: {} (class {}): real e2fsck's journal replay differs from "
                                    "torn's: {}",
                                    what, key, ext4::DescribeDifferences(diffs, 3)));
      }
      // And e2fsck's verdict on it is the class's.
      const store::StoredVerdict* want = FsckVerdict(*cls.owner);
      if (want) {
        oracles::FsckOptions fo = c.options->fsck;
        auto full = oracles::FullCheck(image.path(), fo);
        Status restored = image.Restore();
        if (!full.ok()) return full.status();
        TORN_RETURN_IF_ERROR(restored);
        bool replay_ok = run.status.how == ExitStatus::How::kExited && (run.status.code & ~3) == 0;
        bool ok = replay_ok && full->ok;
        if (ok != want->ok || (!ok && replay_ok && full->detail != want->detail))
          return BadInput(fmt::format("--verify-classes: {} (class {}): e2fsck says {}, the class's state {} got {}",
                                      what, key, ok ? "clean" : full->detail, cls.owner->state_id,
                                      want->ok ? "clean" : want->detail));
      } else {
        TORN_RETURN_IF_ERROR(image.Restore());
      }
      ++verified;
    }
  }
  return verified;
}

}  // namespace torn::checker
