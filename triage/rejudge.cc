#include "triage/rejudge.h"

#include <fmt/core.h>

#include "base/temp_file.h"
#include "classes/reducer.h"
#include "oracles/durable.h"
#include "oracles/mount.h"
#include "triage/signature.h"

namespace torn::triage {

using oracles::Oracle;
using oracles::Verdict;

Result<std::unique_ptr<Rejudge>> Rejudge::Create(const checker::Setup& setup, const RejudgeOptions& options) {
  std::unique_ptr<Rejudge> r(new Rejudge());
  r->setup_ = &setup;
  r->options_ = options;
  if (options.oracle == Oracle::kOrdering && !setup.ordering)
    return BadInput("the ordering oracle needs the trace's ext4 journal");
  if (options.oracle == Oracle::kData && !setup.data) return BadInput("the data oracle needs the trace's manifests");
  // The mount oracle needs a kernel; so do fsck and data on fast_commit states (kernel_replay.h), which
  // find out only when they meet one.
  if (options.oracle == Oracle::kMount) {
    if (options.host_mount) TORN_RETURN_IF_ERROR(oracles::HostMountAvailable());
    else TORN_RETURN_IF_ERROR(oracles::MountVmAvailable(options.vm_mount).with_context("mount oracle in the lab VM"));
  }
  return r;
}

Result<classes::ClassKey> Rejudge::Place(const models::CrashState& state, oracles::DataPlan::Applies& applies) {
  if (!image_) {
    TORN_ASSIGN_OR_RETURN(checker::StateImage im,
                          checker::StateImage::Create(setup_->log, setup_->image_bytes, options_.scratch_dir));
    image_.emplace(std::move(im));
  }
  TORN_RETURN_IF_ERROR(image_->MoveTo(state));
  applies = setup_->data ? setup_->data->For(oracles::DurableView(state)) : oracles::DataPlan::Applies{};
  ext4::ImageView view(image_->fd(), image_->bytes());
  classes::KeyOptions ko{
      .read_files = classes::ReadFiles(setup_->data ? &*setup_->data : nullptr, state.crash_point, {}),
      .data_key = applies.key(),
      .raw_digest = image_->digest()};
  TORN_ASSIGN_OR_RETURN(classes::Analysis a, classes::Analyze(view, ko));
  return a.key;  // the raw image's key when the state could not be reduced: shared by identical images only
}

std::optional<oracles::KernelReplayJudge> Rejudge::KernelReplay(const oracles::DataPlan::Applies& applies) const {
  const Oracle o = options_.oracle;
  if ((o != Oracle::kFsck && o != Oracle::kData) || !options_.kernel_replays_fast_commits ||
      !oracles::FastCommitRecoveryPending(image_->path()))
    return std::nullopt;
  return oracles::KernelReplayJudge{o == Oracle::kFsck, o == Oracle::kData, applies};
}

// The verdict asked for, out of what the kernel's mount gave (kernel_replay.h).
Verdict Rejudge::FromKernel(Verdict mount, std::vector<Verdict> after,
                            const std::optional<oracles::KernelReplayJudge>& replay) const {
  if (!replay) return mount;
  return oracles::KernelReplayVerdicts(mount, std::move(after), *replay).at(0);
}

Result<Verdict> Rejudge::JudgeHere(const oracles::DataPlan::Applies& applies) {
  const Oracle o = options_.oracle;
  Verdict v;
  auto replay = KernelReplay(applies);
  if (o == Oracle::kMount || replay) {
    ++stats_.mounts;
    ++stats_.e2fsck_runs;
    std::vector<Verdict> after;
    TORN_ASSIGN_OR_RETURN(Verdict m, oracles::CheckMount(image_->path(), image_->dir(), options_.fsck,
                                                         std::chrono::seconds(60),
                                                         replay ? oracles::JudgeAfterKernel(*replay) : nullptr, &after));
    v = FromKernel(std::move(m), std::move(after), replay);
  } else {
    oracles::FsckOptions fo = options_.fsck;
    fo.undo_file = image_->undo_path();
    ++stats_.e2fsck_runs;
    auto replayed = oracles::ReplayJournal(image_->path(), fo);
    Result<Verdict> judged = replayed;  // fsck: a failed replay is the verdict
    if (replayed.ok() && o == Oracle::kFsck && replayed->ok) {
      ++stats_.e2fsck_runs;
      judged = oracles::FullCheck(image_->path(), fo);
      if (judged.ok()) judged->output = replayed->output + judged->output;
    } else if (replayed.ok() && o == Oracle::kData) {
      judged = oracles::CheckData(image_->path(), applies);  // what replay left, as torn check reads it
    }
    Status restored = image_->Restore();
    if (!judged.ok()) return judged.status();
    TORN_RETURN_IF_ERROR(restored);
    v = std::move(judged).value();
  }
  v.signature = SignatureOf(v);
  return v;
}

Result<std::vector<Verdict>> Rejudge::Judge(std::span<const models::CrashState> states,
                                            const std::optional<std::string>& stop_at_signature) {
  std::vector<Verdict> out;
  auto stop = [&](const Verdict& v) { return stop_at_signature && !v.ok && v.signature == *stop_at_signature; };
  if (options_.oracle == Oracle::kOrdering) {
    for (const models::CrashState& s : states) {
      ++stats_.states;
      ++stats_.judged;
      Verdict v = setup_->ordering->Check(oracles::DurableView(s));
      v.signature = SignatureOf(v);
      out.push_back(std::move(v));
      if (stop(out.back())) break;
    }
    return out;
  }
  // Each new key is judged here (e2fsck, or a mount on this machine) or, for the lab VM (the mount
  // oracle, the kernel's replay of fast commits), queued: every queued key of this call in one boot.
  std::vector<classes::ClassKey> keys;
  std::vector<TempFile> copies;
  std::vector<oracles::MountImage> images;
  std::vector<std::optional<oracles::KernelReplayJudge>> replays;
  std::map<classes::ClassKey, size_t> pending;  // key -> index into images
  for (const models::CrashState& s : states) {
    ++stats_.states;
    oracles::DataPlan::Applies applies;
    TORN_ASSIGN_OR_RETURN(classes::ClassKey key, Place(s, applies));
    keys.push_back(key);
    if (auto it = cache_.find(key); it != cache_.end() || pending.count(key)) {
      ++stats_.cache_hits;
      if (it != cache_.end() && pending.empty() && stop(it->second)) break;
      continue;
    }
    auto replay = KernelReplay(applies);
    if (!options_.host_mount && (options_.oracle == Oracle::kMount || replay)) {
      TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-triage-mount-", image_->dir()));
      TORN_RETURN_IF_ERROR(image_->CopyTo(copy.fd()).with_context(copy.path()));
      pending[key] = images.size();
      images.push_back({copy.path(), replay ? oracles::JudgeAfterKernel(*replay) : nullptr});
      replays.push_back(replay);
      copies.push_back(std::move(copy));
      continue;
    }
    ++stats_.judged;
    TORN_ASSIGN_OR_RETURN(Verdict v, JudgeHere(applies));
    cache_[key] = v;
    if (pending.empty() && stop(v)) break;  // nothing waits for the VM: the rest is not needed
  }
  if (!images.empty()) {
    TORN_ASSIGN_OR_RETURN(oracles::VmMountResult r, oracles::MountInVm(images, options_.vm_mount));
    stats_.boots += r.boots;
    stats_.mounts += images.size();
    stats_.judged += images.size();
    for (auto& [key, k] : pending) {
      Verdict v = FromKernel(r.verdicts.at(k), r.after.at(k), replays.at(k));
      v.signature = SignatureOf(v);
      cache_[key] = std::move(v);
    }
  }
  for (const auto& key : keys) {
    out.push_back(cache_.at(key));
    if (stop(out.back())) break;
  }
  return out;
}

Result<Rejudge::Recovered> Rejudge::Recover(const models::CrashState& state) {
  oracles::DataPlan::Applies applies;
  TORN_RETURN_IF_ERROR(Place(state, applies).status());
  Recovered r;
  r.view = std::make_unique<ext4::ImageView>(image_->fd(), image_->bytes());
  classes::KeyOptions ko{
      .read_files = classes::ReadFiles(setup_->data ? &*setup_->data : nullptr, state.crash_point, {}),
      .data_key = applies.key(),
      .raw_digest = image_->digest()};
  TORN_ASSIGN_OR_RETURN(r.analysis, classes::Analyze(*r.view, ko));
  return r;
}

}  // namespace torn::triage
