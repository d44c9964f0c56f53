#include "checker/run.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/interrupt.h"
#include "oracles/data.h"
#include "oracles/mount.h"
#include "oracles/mount_batch.h"
#include "oracles/ordering.h"
#include "checker/state_image.h"
#include "store/store.h"
#include "trace/expectations.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::checker {
namespace {

using oracles::CheckData;
using oracles::CheckMount;
using oracles::DataPlan;
using oracles::DurableView;
using oracles::FsckOptions;
using oracles::FullCheck;
using oracles::MountBatcher;
using oracles::Oracle;
using oracles::OracleName;
using oracles::OrderingOracle;
using oracles::ParseOracle;
using oracles::ReplayJournal;
using oracles::Verdict;

using Clock = std::chrono::steady_clock;

std::string Hex64(uint64_t v) { return fmt::format("{:016x}", v); }

Result<std::string> LogSha256(const trace::Log& log, const nlohmann::json& description) {
  if (description.contains("log_sha256") && description["log_sha256"].is_string())
    return description["log_sha256"].get<std::string>();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<std::byte> buf(1 << 20);
  for (uint64_t pos = 0; pos < log.file_bytes();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), log.file_bytes() - pos));
    TORN_RETURN_IF_ERROR(PreadFull(log.fd(), std::span(buf.data(), n), pos));
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    pos += n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

bool IsImageOracle(Oracle o) { return o != Oracle::kOrdering; }

// A state judged but not yet stored: its image's mount verdict is still to come from the lab VM.
struct Parked {
  store::StoredState rec;
  std::vector<Verdict> verdicts;  // its own (ordering); the image verdicts are added when complete
};

// Image verdicts shared between states with the same (digest, data rule): filled once by the first
// worker that meets the key; others wait for it. With the mount oracle in the lab VM, `done` comes
// before the mount verdict: states that need it park until the batch with their image has booted.
struct Shared {
  bool done = false;
  bool mount_pending = false;
  uint64_t owner = 0;
  std::vector<Verdict> verdicts;
  std::vector<Parked> parked;
};

// After journal replay: the full check and the data verdicts of an image as e2fsck left it, shared
// by the states whose images are the same after journal replay (keyed by that digest and the data rule).
struct Replayed {
  std::optional<Verdict> full, data;
  uint64_t owner = 0;
};

struct Job {
  models::CrashState state;
};

// Everything the workers share.
struct Context {
  const CheckOptions* options = nullptr;
  const trace::Log* log = nullptr;
  std::vector<Oracle> oracles;
  bool want_image = false;
  std::optional<DataPlan> data;
  std::optional<OrderingOracle> ordering;
  store::Store* db = nullptr;
  int64_t run_id = 0;
  std::string model;
  uint64_t image_bytes = 0;
  const std::vector<models::Segment>* segments = nullptr;

  std::mutex mu;
  std::condition_variable cv_queue, cv_shared;
  std::deque<Job> queue;
  bool producing = true;
  Status error;                                   // the first error; stops everything
  std::map<std::pair<uint64_t, int>, std::shared_ptr<Shared>> by_image;
  std::map<std::pair<uint64_t, int>, std::shared_ptr<Replayed>> by_replayed;  // (digest after replay, data rule)
  std::vector<store::StoredState> results;        // every state judged in this process
  std::atomic<uint64_t> checked{0}, violating{0}, reused{0}, distinct{0}, replay_reused{0};

  // The mount oracle in the lab VM (not --host-mount). Last, so it is destroyed first: its thread
  // uses the members above.
  std::unique_ptr<MountBatcher> vm_mount;

  bool Stopped() {
    std::lock_guard lock(mu);
    return !error.ok();
  }
  void Fail(const Status& st) {
    std::lock_guard lock(mu);
    if (error.ok()) error = st;
    cv_queue.notify_all();
    cv_shared.notify_all();
  }
};

// The image oracles on the state's image, which they leave as they left it (the caller restores it):
// mount (a copy of the image, before anything wrote to it), then journal replay, then e2fsck -fn and
// the data oracle on the replayed image, unless an image equal to it after replay was judged already.
Result<std::vector<Verdict>> JudgeImage(Context& c, StateImage& image, const DataPlan::Applies& applies,
                                        uint64_t state, std::optional<TempFile>& vm_copy) {
  std::vector<Verdict> out;
  bool fsck = std::count(c.oracles.begin(), c.oracles.end(), Oracle::kFsck) > 0;
  bool data = std::count(c.oracles.begin(), c.oracles.end(), Oracle::kData) > 0;
  bool mount = std::count(c.oracles.begin(), c.oracles.end(), Oracle::kMount) > 0;
  if (mount && c.vm_mount) {
    // The kernel replays the journal itself: it gets the image as it was before e2fsck touched it, a
    // copy that waits for its batch in the lab VM.
    TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-mount-", image.dir()));
    TORN_RETURN_IF_ERROR(image.CopyTo(copy.fd()).with_context(copy.path()));
    vm_copy.emplace(std::move(copy));
  } else if (mount) {
    TORN_ASSIGN_OR_RETURN(Verdict v, CheckMount(image.path(), image.dir(), c.options->fsck));
    out.push_back(std::move(v));
  }
  if (fsck || data) {
    FsckOptions fo = c.options->fsck;
    fo.undo_file = image.undo_path();
    TORN_ASSIGN_OR_RETURN(Verdict replay, ReplayJournal(image.path(), fo));
    std::optional<std::pair<uint64_t, int>> key;
    std::shared_ptr<Replayed> seen;
    if (replay.ok) {
      TORN_ASSIGN_OR_RETURN(std::optional<uint64_t> left, image.DigestAsLeft());
      if (left && c.options->dedupe) key.emplace(*left, applies.key());
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
        TORN_ASSIGN_OR_RETURN(Verdict full, FullCheck(image.path(), fo));
        full.output = replay.output + full.output;
        out.push_back(std::move(full));
      }
    }
    if (data) out.push_back(seen ? note(*seen->data) : CheckData(image.path(), applies));
    if (key && !seen) {
      auto r = std::make_shared<Replayed>();
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

// Adds the image verdicts of `shared` to a state's own; a state that reuses them says whose they are.
void AddImageVerdicts(const Shared& shared, uint64_t state, std::vector<Verdict>& verdicts) {
  for (const auto& v : shared.verdicts) {
    verdicts.push_back(v);
    if (state != shared.owner) verdicts.back().output = fmt::format("(same image as state {})\n", shared.owner);
  }
}

// Stores a state with all its verdicts (invariant 1) and counts it.
Status Finish(Context& c, store::StoredState rec, std::vector<Verdict> verdicts) {
  std::sort(verdicts.begin(), verdicts.end(),
            [](const Verdict& a, const Verdict& b) { return a.oracle < b.oracle; });
  bool bad = false;
  for (const auto& v : verdicts) {
    rec.verdicts.push_back({std::string(OracleName(v.oracle)), v.ok, v.detail, v.output});
    bad |= !v.ok;
  }
  if (c.db) TORN_RETURN_IF_ERROR(c.db->SaveState(c.run_id, rec));
  {
    std::lock_guard lock(c.mu);
    for (auto& v : rec.verdicts) v.output.clear();  // kept in the store, not in memory
    c.results.push_back(std::move(rec));
  }
  ++c.checked;
  if (bad) ++c.violating;
  return Status::Ok();
}

// The lab VM's verdict on an image arrived: the image's verdicts are complete, and the states parked
// on it are stored.
Status CompleteMount(Context& c, const std::shared_ptr<Shared>& shared, Verdict mount) {
  std::vector<Parked> parked;
  {
    std::lock_guard lock(c.mu);
    shared->verdicts.push_back(std::move(mount));
    shared->mount_pending = false;
    parked.swap(shared->parked);
  }
  for (Parked& p : parked) {
    AddImageVerdicts(*shared, p.rec.state_id, p.verdicts);
    TORN_RETURN_IF_ERROR(Finish(c, std::move(p.rec), std::move(p.verdicts)));
  }
  return Status::Ok();
}

Status Judge(Context& c, StateImage* image, const models::CrashState& st) {
  store::StoredState rec;
  rec.state_id = st.id;
  rec.model = c.model;
  rec.segment = st.segment;
  rec.crash_point = st.crash_point;
  rec.base_end = st.base_end;
  rec.dropped.assign(st.dropped.begin(), st.dropped.end());
  nlohmann::json torn = nlohmann::json::array();
  for (const auto& t : st.torn) torn.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
  rec.torn_json = torn.dump();

  DurableView durable(st);
  std::vector<Verdict> verdicts;
  if (c.ordering) verdicts.push_back(c.ordering->Check(durable));
  if (!c.want_image) return Finish(c, std::move(rec), std::move(verdicts));

  TORN_RETURN_IF_ERROR(image->MoveTo(st, &(*c.segments)[st.segment]).with_context("state " + std::to_string(st.id)));
  uint64_t digest = image->digest();
  rec.digest = Hex64(digest);
  DataPlan::Applies applies;
  if (c.data) applies = c.data->For(durable);
  auto key = std::make_pair(digest, applies.key());
  std::shared_ptr<Shared> shared;
  bool mine = false;
  {
    std::unique_lock lock(c.mu);
    auto& slot = c.by_image[key];
    if (!slot || !c.options->dedupe) {
      slot = std::make_shared<Shared>();
      slot->owner = st.id;
      mine = true;
    }
    shared = slot;
    if (!mine) {
      c.cv_shared.wait(lock, [&] { return shared->done || !c.error.ok(); });
      if (!shared->done) return c.error;
    }
  }
  if (mine) {
    std::optional<TempFile> vm_copy;
    auto judged = JudgeImage(c, *image, applies, st.id, vm_copy);
    // Whatever the oracles did, the image goes back to the state's bytes before the next move.
    Status restored = image->Restore();
    if (judged.ok() && !restored.ok()) judged = restored.with_context("state " + std::to_string(st.id));
    if (!judged.ok()) {
      std::lock_guard lock(c.mu);
      c.by_image.erase(key);  // nobody may wait for a verdict that will not come
      c.cv_shared.notify_all();
      return judged.status();
    }
    {
      std::lock_guard lock(c.mu);
      shared->verdicts = std::move(judged).value();
      shared->done = true;
      shared->mount_pending = vm_copy.has_value();
      c.cv_shared.notify_all();
    }
    ++c.distinct;
    if (vm_copy) c.vm_mount->Add(std::move(*vm_copy), [&c, shared](Verdict v) { return CompleteMount(c, shared, std::move(v)); });
  } else {
    rec.reused_from = shared->owner;
    ++c.reused;
  }
  {
    std::lock_guard lock(c.mu);
    if (shared->mount_pending) {  // stored when the lab VM has judged the image (CompleteMount)
      shared->parked.push_back({std::move(rec), std::move(verdicts)});
      return Status::Ok();
    }
    AddImageVerdicts(*shared, st.id, verdicts);
  }
  return Finish(c, std::move(rec), std::move(verdicts));
}

void Worker(Context& c) {
  std::optional<StateImage> image;
  if (c.want_image) {
    auto im = StateImage::Create(*c.log, c.image_bytes, c.options->scratch_dir);
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
    Status st = Judge(c, image ? &*image : nullptr, job.state);
    if (!st.ok()) return c.Fail(st);
    if (Interrupted()) return c.Fail(Status(Code::kInterrupted, "interrupted"));
  }
}

}  // namespace

Result<CheckResult> RunCheck(const CheckOptions& o, const std::function<void(const Progress&)>& progress) {
  auto start = Clock::now();
  // What an earlier torn killed with SIGKILL left (its images are tens of MiB of memory in /dev/shm).
  SweepStaleTemporaries(o.scratch_dir);
  SweepStaleTemporaries(TempRoot());
  TORN_ASSIGN_OR_RETURN(trace::Log log, trace::Log::Open(o.trace));
  TORN_ASSIGN_OR_RETURN(nlohmann::json description, trace::ReadDescription(o.trace));
  CheckResult result;
  result.trace = o.trace;
  result.model = std::string(models::ModelName(o.space.model));

  Context c;
  c.options = &o;
  c.log = &log;
  c.model = result.model;
  c.oracles = o.oracles.empty() ? std::vector<Oracle>{Oracle::kFsck, Oracle::kData, Oracle::kOrdering}
                                : o.oracles;
  if (std::count(c.oracles.begin(), c.oracles.end(), Oracle::kMount)) {
    if (o.host_mount) {
      TORN_RETURN_IF_ERROR(oracles::HostMountAvailable());
    } else {
      TORN_RETURN_IF_ERROR(oracles::MountVmAvailable(o.vm_mount).with_context("mount oracle in the lab VM"));
    }
  }

  models::SpaceOptions space = o.space;
  result.from_mark = o.from_mark;
  if (!o.from_mark && o.default_from_mark && log.FindMark(models::kDefaultFromMark)) {
    result.from_mark = std::string(models::kDefaultFromMark);
    result.from_mark_default = true;
  }
  if (result.from_mark) {
    auto e = log.FindMark(*result.from_mark);
    if (!e) return BadInput(o.trace + ": no mark named '" + *result.from_mark + "'");
    space.from_entry = *e;
  }
  space.digests = false;  // the checker digests the images it builds
  TORN_ASSIGN_OR_RETURN(models::StateSpace states, models::StateSpace::Build(log, space));
  c.segments = &states.segments();
  models::Coverage cov = states.coverage();
  result.possible = cov.possible.str();
  result.generated = cov.generated;
  result.strategy = cov.strategy;

  // Data: the manifests, from --expect or the trace directory.
  std::string expect_path = o.expect.value_or("");
  if (expect_path.empty() && !trace::TraceDirOf(o.trace).empty()) {
    std::string p = trace::TraceDirOf(o.trace) + "/" + trace::kExpectationsFile;
    if (::access(p.c_str(), R_OK) == 0) expect_path = p;
  }
  if (std::count(c.oracles.begin(), c.oracles.end(), Oracle::kData)) {
    trace::Expectations ex;
    if (!expect_path.empty()) {
      TORN_ASSIGN_OR_RETURN(ex, trace::ReadExpectations(expect_path));
    } else {
      result.notes.push_back("data: the trace has no manifests (give --expect FILE): nothing to compare");
    }
    TORN_ASSIGN_OR_RETURN(DataPlan plan, DataPlan::Build(log, ex));
    c.data = std::move(plan);
  }
  if (std::count(c.oracles.begin(), c.oracles.end(), Oracle::kOrdering)) {
    auto map = ext4::JournalMap::Build(log);
    if (!map.ok()) {
      if (o.oracles_explicit || map.status().code() != Code::kUnavailable)
        return map.status().with_context("ordering oracle");
      result.notes.push_back("ordering: skipped: " + map.status().message());
      c.oracles.erase(std::find(c.oracles.begin(), c.oracles.end(), Oracle::kOrdering));
    } else {
      result.notes.push_back("ordering: " + map->summary);
      c.ordering.emplace(std::make_shared<const ext4::JournalMap>(std::move(map).value()));
    }
  }
  result.oracles = c.oracles;
  c.want_image = std::any_of(c.oracles.begin(), c.oracles.end(), IsImageOracle);
  c.image_bytes = ImageBytes(log, description.value("device_bytes", uint64_t{0}));

  // The store: resume what an earlier run of the same check stored.
  std::optional<store::Store> db;
  std::set<uint64_t> done;
  if (!o.db.empty()) {
    TORN_ASSIGN_OR_RETURN(store::Store s, store::Store::Open(o.db));
    db.emplace(std::move(s));
    TORN_ASSIGN_OR_RETURN(std::string sha, LogSha256(log, description));
    nlohmann::json key = {{"log_sha256", sha},
                          {"model", result.model},
                          {"points", int(space.points)},
                          {"from_entry", space.from_entry ? int64_t(*space.from_entry) : -1},
                          {"max_states", space.max_states},
                          {"seed", space.seed},
                          {"oracles", [&] {
                             std::vector<std::string> n;
                             for (Oracle x : c.oracles) n.emplace_back(OracleName(x));
                             return n;
                           }()},
                          {"expect", expect_path},
                          {"digest", "models::ImageDigest"},  // stored digests are this function's
                          {"host_mount", o.host_mount},
                          {"dedupe", o.dedupe}};
    nlohmann::json options = key;
    options["trace"] = o.trace;
    TORN_ASSIGN_OR_RETURN(store::RunInfo run, db->BeginRun({o.trace, sha, log.size(), log.sectorsize()},
                                                           key.dump(), options.dump()));
    c.db = &*db;
    c.run_id = result.run_id = run.id;
    TORN_ASSIGN_OR_RETURN(auto stored, db->LoadStates(run.id));
    for (auto& s : stored) {
      done.insert(s.state_id);
      // Image verdicts of stored states seed the reuse map (the data rule key is recomputed).
      if (c.want_image && !s.reused_from && !s.digest.empty()) {
        models::CrashState st;
        st.crash_point = s.crash_point;
        st.base_end = s.base_end;
        st.dropped.assign(s.dropped.begin(), s.dropped.end());
        int dkey = c.data ? c.data->For(DurableView(st)).key() : 0;
        auto sh = std::make_shared<Shared>();
        sh->done = true;
        sh->owner = s.state_id;
        for (const auto& v : s.verdicts) {
          auto oracle = ParseOracle(v.oracle);
          if (oracle.ok() && IsImageOracle(*oracle)) sh->verdicts.push_back({*oracle, v.ok, v.detail, ""});
        }
        c.by_image[{std::stoull(s.digest, nullptr, 16), dkey}] = sh;
      }
      for (auto& v : s.verdicts) v.output.clear();
      c.results.push_back(std::move(s));
    }
    result.resumed = done.size();
    c.checked = done.size();
    for (const auto& s : c.results)
      if (std::any_of(s.verdicts.begin(), s.verdicts.end(), [](const auto& v) { return !v.ok; }))
        ++c.violating;
  }

  // Workers, a progress ticker, and the producer on this thread.
  bool vm_mount = !o.host_mount && std::count(c.oracles.begin(), c.oracles.end(), Oracle::kMount);
  if (vm_mount)
    c.vm_mount = std::make_unique<MountBatcher>(o.vm_mount, o.mount_batch, [&c](const Status& st) { c.Fail(st); });
  int jobs = std::max(1, o.jobs);
  std::vector<std::thread> workers;
  for (int i = 0; i < jobs; ++i) workers.emplace_back([&] { Worker(c); });
  std::atomic<bool> ticking{bool(progress)};
  auto snapshot = [&] {
    return Progress{result.generated, c.checked.load(), c.violating.load(), c.reused.load(),
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
    if (done.count(st.id)) return Status::Ok();
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
  if (db && !result.budget_cut)
    TORN_RETURN_IF_ERROR(db->FinishRun(c.run_id, result.possible, result.generated, result.strategy));

  // Results, in state order (invariant 3).
  std::sort(c.results.begin(), c.results.end(),
            [](const auto& a, const auto& b) { return a.state_id < b.state_id; });
  result.checked = c.results.size();
  result.distinct_images = c.distinct.load();
  result.reused_after_replay = c.replay_reused.load();
  std::map<size_t, CrashPointGroup> groups;
  for (const auto& s : c.results) {
    auto& g = groups[s.crash_point];
    g.crash_point = s.crash_point;
    ++g.states;
    for (const auto& v : s.verdicts) {
      if (v.ok) continue;
      Violation viol;
      viol.id = result.violations.size() + 1;
      viol.state = s.state_id;
      viol.oracle = ParseOracle(v.oracle).value();
      viol.crash_point = s.crash_point;
      viol.dropped.assign(s.dropped.begin(), s.dropped.end());
      auto torn = nlohmann::json::parse(s.torn_json, nullptr, false);
      if (torn.is_array())
        for (const auto& t : torn)
          viol.torn.push_back({t["entry"].get<size_t>(), t["sectors"].get<std::vector<uint32_t>>()});
      viol.detail = v.detail;
      result.violations.push_back(viol);
      g.violations.push_back(viol);
    }
  }
  for (auto& [cp, g] : groups) result.groups.push_back(std::move(g));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace torn::checker
