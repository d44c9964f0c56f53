// RunCheck: the pipeline of run.h. The producer (this thread) walks the state space and queues groups
// the store does not hold yet; N workers judge them (group.cc); a ticker reports progress; the mount
// oracle's batcher judges images in the lab VM on a thread of its own. result.cc resumes from the
// store and turns the stored states into the result.
#include "checker/run.h"

#include <algorithm>
#include <thread>

#include <fmt/core.h>

#include "base/interrupt.h"
#include "base/temp_file.h"
#include "checker/result.h"
#include "checker/run_context.h"
#include "checker/verify_classes.h"
#include "oracles/mount.h"
#include "models/rule.h"

namespace torn::checker {
namespace {

using oracles::Oracle;
using Clock = std::chrono::steady_clock;

void Worker(Context& c) {
  std::optional<StateImage> image;
  if (c.setup->WantsImage()) {
    auto im = StateImage::Create(c.setup->log, c.setup->image_bytes, c.options->scratch_dir);
    if (!im.ok()) return c.Fail(im.status().with_context("scratch images in " + c.options->scratch_dir));
    image.emplace(std::move(im).value());
  }
  for (;;) {
    Job job;
    {
      std::unique_lock lock(c.mu);
      c.cv_queue.wait(lock, [&] { return !c.queue.empty() || !c.producing || !c.error.ok(); });
      if (!c.error.ok() || (c.queue.empty() && !c.producing)) return;
      job = std::move(c.queue.front());
      c.queue.pop_front();
      c.cv_queue.notify_all();
    }
    Status st = JudgeGroup(c, image ? &*image : nullptr, job.group);
    if (!st.ok()) return c.Fail(st.with_context(fmt::format("group {}", job.group.id)));
    if (Interrupted()) return c.Fail(Status(Code::kInterrupted, "interrupted"));
  }
}

// Classes need images to analyze. The reduction (units fixed per window) needs whole writes as
// units in windows of subsets: for prefix and torn-sector every state is its own group, and states
// share verdicts by class key only.
bool UseClasses(const CheckOptions& o, const Setup& s) { return o.classes && o.dedupe && s.WantsImage(); }
bool Reduces(const Setup& s) {
  const models::Rule& rule = models::RuleFor(s.space.model);
  return !rule.sector_units && rule.window == models::WindowKind::kSubsets;
}

}  // namespace

SetupOptions SetupOptionsOf(const CheckOptions& o) {
  return {.trace = o.trace,
          .space = o.space,
          .from_mark = o.from_mark,
          .default_from_mark = o.default_from_mark,
          .expect = o.expect,
          .oracles = o.oracles,
          .oracles_explicit = o.oracles_explicit};
}

Result<CheckResult> RunCheck(const CheckOptions& o, const std::function<void(const Progress&)>& progress) {
  auto start = Clock::now();
  // What an earlier torn killed with SIGKILL left (its images are tens of MiB of memory in /dev/shm).
  SweepStaleTemporaries(o.scratch_dir);
  SweepStaleTemporaries(TempRoot());

  std::optional<MatchFilter> match;  // --match: checked before anything long starts
  if (!o.match.empty()) {
    TORN_ASSIGN_OR_RETURN(MatchFilter m, MatchFilter::Create(o.match));
    match.emplace(std::move(m));
  }

  // Stage 1: enumerate.
  TORN_ASSIGN_OR_RETURN(Setup setup, Prepare(SetupOptionsOf(o)));
  if (setup.Has(Oracle::kMount)) {
    if (o.host_mount) {
      TORN_RETURN_IF_ERROR(oracles::HostMountAvailable());
    } else {
      TORN_RETURN_IF_ERROR(oracles::MountVmAvailable(o.vm_mount).with_context("mount oracle in the lab VM"));
    }
  }
  std::unique_ptr<classes::Reducer> reducer;
  models::SpaceOptions space = setup.space;
  space.digests = false;  // the checker digests the images it builds
  if (UseClasses(o, setup)) {
    TORN_ASSIGN_OR_RETURN(reducer, classes::Reducer::Create(setup.log, {.image_bytes = setup.image_bytes,
                                                                       .scratch_dir = o.scratch_dir,
                                                                       .data = setup.data ? &*setup.data : nullptr,
                                                                       .ordering = setup.ordering ? &*setup.ordering : nullptr}));
    if (Reduces(setup)) space.fix_units = reducer->Callback();
  }
  TORN_ASSIGN_OR_RETURN(models::StateSpace states, models::StateSpace::Build(setup.log, space));

  CheckResult result = StartResult(o, setup, states, reducer.get());
  const CheckResult started = result;  // for the plan stored when the run finishes (result.h)
  Context c;
  c.options = &o;
  c.setup = &setup;
  c.states = &states;
  c.reducer = reducer.get();
  c.model = result.model;
  c.match = match ? &*match : nullptr;

  // Stage 4 first: what an earlier run of the same check stored.
  std::optional<store::Store> db;
  std::set<uint64_t> done;
  if (!o.db.empty()) {
    TORN_ASSIGN_OR_RETURN(store::Store s, store::Store::Open(o.db));
    db.emplace(std::move(s));
    TORN_RETURN_IF_ERROR(Resume(c, *db, result, done));
  }

  // Stages 2 and 3: workers, a progress ticker, and the producer on this thread.
  // The lab VM also replays fast commits for fsck and data (judge.cc); it boots only once a state
  // needs it.
  const bool kernel_replay = o.kernel_replays_fast_commits && (setup.Has(Oracle::kFsck) || setup.Has(Oracle::kData));
  if ((setup.Has(Oracle::kMount) || kernel_replay) && !o.host_mount)
    c.vm_mount = std::make_unique<oracles::MountBatcher>(o.vm_mount, o.mount_batch, [&c](const Status& st) { c.Fail(st); });
  int jobs = std::max(1, o.jobs);
  std::vector<std::thread> workers;
  for (int i = 0; i < jobs; ++i) workers.emplace_back([&] { Worker(c); });
  std::atomic<bool> ticking{bool(progress)};
  auto snapshot = [&] {
    return Progress{result.generated, c.groups_done.load(), c.violating.load(), c.reused.load(), c.covered.load(),
                    std::chrono::duration<double>(Clock::now() - start).count()};
  };
  std::thread ticker;
  if (progress) {
    ticker = std::thread([&] {
      while (ticking) {
        progress(snapshot());
        for (int i = 0; i < 10 && ticking; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    });
  }
  std::optional<Clock::time_point> deadline;
  if (o.time_budget) deadline = start + *o.time_budget;
  const Status kBudget(Code::kTimeout, "time budget spent");
  Status produced = states.ForEach([&](const models::CrashState& st) -> Status {
    if (!o.shard.Holds(st.id) || done.count(st.id)) return Status::Ok();  // another shard's, or stored
    if (deadline && Clock::now() >= *deadline) return kBudget;
    std::unique_lock lock(c.mu);
    c.cv_queue.wait(lock, [&] { return c.queue.size() < size_t(4 * jobs) || !c.error.ok(); });
    if (!c.error.ok()) return c.error;
    c.queue.push_back({st});
    c.cv_queue.notify_all();
    return Status::Ok();
  });
  {
    std::lock_guard lock(c.mu);
    c.producing = false;
    if (produced.code() == Code::kTimeout && produced.message() == kBudget.message()) {
      result.budget_cut = true;
    } else if (!produced.ok() && c.error.ok()) {
      c.error = produced;
    }
    c.cv_queue.notify_all();
  }
  for (auto& w : workers) w.join();
  if (c.vm_mount) {
    // The last batch, unless the run is failing (then what waits is dropped).
    if (c.error.ok()) (void)c.vm_mount->Close();  // an error reaches c.error through on_error
    result.mount_boots = c.vm_mount->boots();
    c.vm_mount.reset();
  }
  ticking = false;
  if (ticker.joinable()) ticker.join();
  if (progress) progress(snapshot());
  if (!c.error.ok()) return c.error;

  FinishResult(c, result);
  if (o.verify_classes && reducer) {
    TORN_ASSIGN_OR_RETURN(result.verified, VerifyClasses(c, o.verify_classes));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Finished, with the plan that lets torn merge rebuild this result from the database alone.
  if (db && !result.budget_cut)
    TORN_RETURN_IF_ERROR(db->FinishRun(c.run_id, result.possible, result.generated, result.strategy,
                                       PlanJson(started, result, c).dump()));
  if (match) ApplyMatch(*match, result);  // a view of the result: the store keeps every verdict
  return result;
}

}  // namespace torn::checker
