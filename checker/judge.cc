// The judging stage of the check (run.h): the image oracles on one state's image, and the end of a
// group (stored, counted).
//
// JudgeImage runs, on the image as the worker has put it (the caller restores it afterwards):
//   mount    a copy of the image for the lab VM (before anything writes to it), or, with --host-mount,
//            a mount on this machine;
//   fsck     e2fsck -E journal_only -y with an undo file (the image is put back from it), then -fn;
//   data     the data oracle on the image as journal replay left it.
// A state of a fast_commit file system that needs recovery gets the kernel's replay instead of
// e2fsck's for fsck and data (oracles/kernel_replay.h), on the mount oracle's path.
// Without classes, images that are the same after journal replay (their digest as e2fsck left them,
// from the undo record) share e2fsck -fn's and the data oracle's verdicts; with classes that is
// already the class's job (the class key is computed from the recovered image).
#include <algorithm>

#include <fmt/core.h>

#include "checker/run_context.h"
#include "oracles/mount.h"

namespace torn::checker {

using oracles::Oracle;
using oracles::Verdict;

Result<std::vector<Verdict>> JudgeImage(Context& c, StateImage& image, const oracles::DataPlan::Applies& applies,
                                        uint64_t state, std::optional<VmRequest>& vm) {
  std::vector<Verdict> out;
  const bool fsck = c.setup->Has(Oracle::kFsck), data = c.setup->Has(Oracle::kData),
             mount = c.setup->Has(Oracle::kMount);
  std::optional<oracles::KernelReplayJudge> by_kernel;
  if ((fsck || data) && c.options->kernel_replays_fast_commits && oracles::FastCommitRecoveryPending(image.path()))
    by_kernel = oracles::KernelReplayJudge{fsck, data, applies};
  if ((mount || by_kernel) && c.vm_mount) {
    // The kernel replays the journal itself: it gets the image as it was before e2fsck touched it, a
    // copy that waits for its batch in the lab VM.
    TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-mount-", image.dir()));
    TORN_RETURN_IF_ERROR(image.CopyTo(copy.fd()).with_context(copy.path()));
    vm.emplace(VmRequest{std::move(copy), mount, by_kernel});
  } else if (mount || by_kernel) {
    std::vector<Verdict> after;
    TORN_ASSIGN_OR_RETURN(Verdict v, oracles::CheckMount(image.path(), image.dir(), c.options->fsck,
                                                         std::chrono::seconds(60),
                                                         by_kernel ? oracles::JudgeAfterKernel(*by_kernel) : nullptr, &after));
    if (by_kernel) {
      for (Verdict& r : oracles::KernelReplayVerdicts(v, std::move(after), *by_kernel)) out.push_back(std::move(r));
    }
    if (mount) out.push_back(std::move(v));
  }
  if ((fsck || data) && !by_kernel) {
    oracles::FsckOptions fo = c.options->fsck;
    fo.undo_file = image.undo_path();
    TORN_ASSIGN_OR_RETURN(Verdict replay, oracles::ReplayJournal(image.path(), fo));
    std::optional<std::pair<uint64_t, int>> key;
    std::shared_ptr<ReplayedVerdicts> seen;
    if (replay.ok && !c.reducer && c.options->dedupe) {
      TORN_ASSIGN_OR_RETURN(std::optional<uint64_t> left, image.DigestAsLeft());
      if (left) key.emplace(*left, applies.key());
      std::lock_guard lock(c.mu);
      if (auto it = key ? c.by_replayed.find(*key) : c.by_replayed.end(); it != c.by_replayed.end()) {
        seen = it->second;
        ++c.replay_reused;
      }
    }
    auto note = [&](Verdict v) {
      v.output = fmt::format("(verdict of state {}: the same image after journal replay)\n", seen->owner) + v.output;
      return v;
    };
    if (fsck) {
      if (!replay.ok) {
        out.push_back(replay);
      } else if (seen) {
        Verdict v = note(*seen->full);
        v.output = replay.output + v.output;
        out.push_back(std::move(v));
      } else {
        TORN_ASSIGN_OR_RETURN(Verdict full, oracles::FullCheck(image.path(), fo));
        full.output = replay.output + full.output;
        out.push_back(std::move(full));
      }
    }
    if (data) out.push_back(seen ? note(*seen->data) : oracles::CheckData(image.path(), applies));
    if (key && !seen) {
      auto r = std::make_shared<ReplayedVerdicts>();
      r->owner = state;
      for (const Verdict& v : out) {
        if (v.oracle == Oracle::kFsck) r->full = v;
        if (v.oracle == Oracle::kData) r->data = v;
      }
      std::lock_guard lock(c.mu);
      c.by_replayed.emplace(*key, std::move(r));
    }
  }
  std::sort(out.begin(), out.end(), [](const Verdict& a, const Verdict& b) { return a.oracle < b.oracle; });
  return out;
}

Status FinishGroup(Context& c, PendingGroup& group) {
  uint64_t bad = 0;
  double covered = 0;
  for (auto& rec : group.members) {
    std::sort(rec.verdicts.begin(), rec.verdicts.end(), [](const auto& a, const auto& b) {
      return *oracles::ParseOracle(a.oracle) < *oracles::ParseOracle(b.oracle);
    });
    bad += std::any_of(rec.verdicts.begin(), rec.verdicts.end(), [](const auto& v) { return !v.ok; });
    covered += std::stod(rec.covers);
  }
  if (c.db) TORN_RETURN_IF_ERROR(c.db->SaveStates(c.run_id, group.members));
  {
    std::lock_guard lock(c.mu);
    for (auto& rec : group.members) {
      for (auto& v : rec.verdicts) v.output.clear();  // kept in the store, not in memory
      c.results.push_back(std::move(rec));
    }
  }
  c.checked += group.members.size();
  c.violating += bad;
  c.covered.fetch_add(covered);
  ++c.groups_done;
  return Status::Ok();
}

}  // namespace torn::checker
