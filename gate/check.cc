#include "gate/check.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "base/interrupt.h"
#include "base/temp_file.h"
#include "checker/state_image.h"
#include "classes/class_key.h"
#include "classes/members.h"
#include "classes/reducer.h"
#include "ext4/ext4_files.h"
#include "ext4/image_view.h"
#include "gate/outer_fs.h"
#include "models/digest.h"
#include "models/model.h"
#include "oracles/data.h"
#include "oracles/durable.h"
#include "oracles/fsck.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::gate {
namespace {

using classes::ClassKey;
using oracles::DataPlan;
using oracles::Oracle;
using oracles::Verdict;

struct Finding {
  Level level;
  Verdict verdict;
};

// The findings of one class, judged once by the first worker that meets its key (the owner); the
// others wait for `done`. An outer class also names the inner class its backing file fell in.
struct ClassSlot {
  bool done = false;
  std::vector<Finding> findings;
  std::optional<ClassKey> inner;
};
using ClassMap = std::map<ClassKey, std::shared_ptr<ClassSlot>>;

struct Judged {  // one judged lower state: a member of a group
  uint64_t id = 0;
  models::CrashState state;
  std::vector<size_t> fixed;
  std::string covers;
  ClassKey outer;
  std::optional<ClassKey> inner;
  std::vector<Finding> failed;
};

constexpr size_t kNotesShown = 10;

struct Context {
  const GateOptions* options = nullptr;
  const trace::Log* log = nullptr;
  DataPlan outer_plan, inner_plan;
  bool outer_data = false;
  bool outer_classes = false;  // classes on and an ext4 outer file system (classes/ know ext4 only)
  uint64_t image_bytes = 0;
  const models::StateSpace* states = nullptr;
  const classes::Reducer* reducer = nullptr;  // with classes
  std::vector<models::CrashState> groups;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> groups_done{0};

  std::mutex mu;
  std::condition_variable cv;
  Status error;  // the first error; stops everything
  ClassMap outer, inner;
  uint64_t outer_judged = 0, inner_judged = 0;
  std::vector<Judged> judged;
  models::BigCount lost = 0;             // states given up by members whose class proof failed
  uint64_t alone = 0;                    // such members
  std::vector<std::string> lost_notes;   // the first kNotesShown of them (a barrier-less window
                                         // can give thousands)
  uint64_t inner_unreduced = 0;          // extracted images keyed by their bytes
  std::string inner_unreduced_why;       // the first one's reason

  void Fail(const Status& st) {
    std::lock_guard lock(mu);
    if (error.ok()) error = st;
    cv.notify_all();
  }
};

// The member ids of a group, as torn check numbers them: the group's id, then id | (k << 40).
uint64_t MemberId(uint64_t group, size_t k) { return group | (uint64_t(k) << 40); }

// The data key of a lower state: its outer rule and its inner rule, both (classes::KeyOptions).
int DataKey(const Context& c, const DataPlan::Applies& outer, const DataPlan::Applies& inner) {
  return outer.key() * static_cast<int>(2 * c.inner_plan.rules().size() + 1) + inner.key();
}

// Claims a class: {slot, true} when the caller is its owner (it judges the class, then Publish), else
// {slot, false} once the owner has published it. Never called while holding mu.
Result<std::pair<std::shared_ptr<ClassSlot>, bool>> Claim(Context& c, ClassMap& map, const ClassKey& key) {
  std::unique_lock lock(c.mu);
  std::shared_ptr<ClassSlot>& slot = map[key];
  if (!slot) {
    slot = std::make_shared<ClassSlot>();
    return std::pair{slot, true};
  }
  std::shared_ptr<ClassSlot> s = slot;
  c.cv.wait(lock, [&] { return s->done || !c.error.ok(); });
  if (!s->done) return c.error;
  return std::pair{s, false};
}

void Publish(Context& c, ClassSlot& slot, std::vector<Finding> findings, uint64_t& judged) {
  std::lock_guard lock(c.mu);
  slot.findings = std::move(findings);
  slot.done = true;
  ++judged;
  c.cv.notify_all();
}

// The inner class key of the image extracted to `inner` (step 3c of check.h): in-process recovery and
// block roles of the inner file system, or, where those do not apply, its bytes.
Result<ClassKey> InnerKey(Context& c, const TempFile& inner, const DataPlan::Applies& applies, size_t crash_point) {
  struct stat st;
  if (::fstat(inner.fd(), &st) != 0) return ErrnoError("stat " + inner.path(), errno);
  uint64_t bytes = uint64_t(st.st_size);
  if (c.options->classes) {
    ext4::ImageView view(inner.fd(), bytes);
    classes::KeyOptions ko{.read_files = classes::ReadFiles(&c.inner_plan, crash_point, {}),
                           .data_key = applies.key()};
    auto a = classes::Analyze(view, ko);
    if (a.ok() && a->reduced) return a->key;
    // Unreduced: sound, it shares verdicts only with identical images.
    std::lock_guard lock(c.mu);
    if (c.inner_unreduced++ == 0) c.inner_unreduced_why = a.ok() ? a->why_not : a.status().message();
  }
  TORN_ASSIGN_OR_RETURN(uint64_t digest, models::ImageDigest(inner.fd(), bytes, 512));
  return classes::RawKey(digest, applies.key());
}

// Step 3d: e2fsck and the data oracle on the extracted image (e2fsck replays its journal in place).
Result<std::vector<Finding>> JudgeInner(Context& c, const TempFile& inner, const DataPlan::Applies& applies) {
  std::vector<Finding> out;
  TORN_ASSIGN_OR_RETURN(Verdict fsck, oracles::RunFsck(inner.path(), c.options->fsck));
  if (!fsck.ok) out.push_back({Level::kInner, fsck});
  Verdict data = oracles::CheckData(inner.path(), applies);
  if (!data.ok) out.push_back({Level::kInner, data});
  return out;
}

// Steps 3a-3d for the lower state on `image` (journal replay writes to it; the caller restores it).
Result<std::vector<Finding>> JudgeOuter(Context& c, checker::StateImage& image, const TempFile& inner,
                                        const models::CrashState& state, std::optional<ClassKey>& inner_key) {
  oracles::DurableView durable(state);
  DataPlan::Applies outer_applies = c.outer_plan.For(durable), inner_applies = c.inner_plan.For(durable);
  std::vector<Finding> out;
  if (c.options->outer != OuterFs::kExt4) {  // xfs, btrfs: gate/outer_fs.h (no outer manifests)
    TORN_ASSIGN_OR_RETURN(OuterVerdicts ov,
                          JudgeOuterFs(c.options->outer, image.path(), kBackingFile, inner.path(),
                                       {.scratch_dir = c.options->scratch_dir, .timeout = c.options->fsck.timeout}));
    for (Verdict& v : ov.failed) out.push_back({Level::kOuter, std::move(v)});
    if (!ov.extracted) return out;
  } else {
    oracles::FsckOptions fo = c.options->fsck;
    fo.undo_file = image.undo_path();
    TORN_ASSIGN_OR_RETURN(Verdict fsck, oracles::RunFsck(image.path(), fo));
    if (!fsck.ok) out.push_back({Level::kOuter, fsck});
    if (c.outer_data) {
      Verdict data = oracles::CheckData(image.path(), outer_applies);
      if (!data.ok) out.push_back({Level::kOuter, data});
    }
    Status copied;
    {
      auto fs = ext4::Ext4Image::Open(image.path());
      copied = fs.ok() ? fs->CopyOut(kBackingFile, inner.path()) : fs.status();
    }
    if (!copied.ok()) {
      if (copied.code() != Code::kBadInput && copied.code() != Code::kUnavailable) return copied;
      Verdict v{Oracle::kData, false,
                fmt::format("the backing file {} cannot be read from the recovered outer file system: {}",
                            kBackingFile, copied.message()),
                ""};
      out.push_back({Level::kOuter, v});
      return out;
    }
  }
  TORN_ASSIGN_OR_RETURN(ClassKey key, InnerKey(c, inner, inner_applies, state.crash_point));
  inner_key = key;
  TORN_ASSIGN_OR_RETURN(auto claim, Claim(c, c.inner, key));
  if (claim.second) {
    auto findings = JudgeInner(c, inner, inner_applies);
    if (!findings.ok()) return findings.status().with_context("the inner level");
    Publish(c, *claim.first, std::move(findings).value(), c.inner_judged);
  }
  out.insert(out.end(), claim.first->findings.begin(), claim.first->findings.end());
  return out;
}

// One group: its members (classes/members.h), each keyed, judged through its outer class.
Status JudgeGroup(Context& c, checker::StateImage& image, const TempFile& inner, const models::CrashState& g) {
  const classes::WindowFacts* facts = c.reducer ? c.reducer->facts(g.segment) : nullptr;
  classes::GroupMembers members(*c.states, g, {&c.outer_plan, &c.inner_plan}, facts);
  std::vector<Judged> out;
  while (std::optional<classes::Member> next = members.Next()) {
    classes::Member& m = *next;
    uint64_t id = MemberId(g.id, out.size());
    auto where = [&] { return fmt::format("lower state {}", id); };
    TORN_RETURN_IF_ERROR(image.MoveTo(m.state, &c.states->segments()[m.state.segment]).with_context(where()));
    oracles::DurableView durable(m.state);
    int data_key = DataKey(c, c.outer_plan.For(durable), c.inner_plan.For(durable));
    ClassKey key = classes::RawKey(image.digest(), data_key);
    if (c.outer_classes) {
      ext4::ImageView view(image.fd(), image.bytes());
      classes::KeyOptions ko{.read_files = classes::ReadFiles(&c.outer_plan, m.state.crash_point, {kBackingFile}),
                             .data_key = data_key,
                             .raw_digest = image.digest()};
      auto a = classes::Analyze(view, ko);
      if (!a.ok()) return a.status().with_context(where() + ": its outer class key");
      classes::Reproof proof = members.Prove(m, *a);
      if (proof.outcome == classes::Reproof::Outcome::kSplit) continue;
      if (proof.outcome == classes::Reproof::Outcome::kAlone) {
        std::lock_guard lock(c.mu);
        c.lost += proof.lost;
        if (c.alone++ < kNotesShown)
          c.lost_notes.push_back(fmt::format("{}: the class proof failed for {} writes (first: {}); it stands "
                                             "for itself alone",
                                             where(), proof.failed, proof.why));
      }
      key = a->key;
    }
    Judged j{id, m.state, m.fixed, members.Covers(m).str(), key, std::nullopt, {}};
    TORN_ASSIGN_OR_RETURN(auto claim, Claim(c, c.outer, key));
    if (claim.second) {
      std::optional<ClassKey> inner_key;
      auto findings = JudgeOuter(c, image, inner, m.state, inner_key);
      Status restored = image.Restore();  // whatever the oracles did
      if (!findings.ok()) return findings.status().with_context(where());
      if (!restored.ok()) return restored.with_context(where());
      {
        std::lock_guard lock(c.mu);
        claim.first->inner = inner_key;
      }
      Publish(c, *claim.first, std::move(findings).value(), c.outer_judged);
    }
    j.failed = claim.first->findings;
    j.inner = claim.first->inner;
    out.push_back(std::move(j));
  }
  std::lock_guard lock(c.mu);
  for (Judged& j : out) c.judged.push_back(std::move(j));
  ++c.groups_done;
  return Status::Ok();
}

void Worker(Context& c) {
  auto image = checker::StateImage::Create(*c.log, c.image_bytes, c.options->scratch_dir);
  if (!image.ok()) return c.Fail(image.status().with_context("scratch images in " + c.options->scratch_dir));
  auto inner = TempFile::Create("torn-gate-inner-", c.options->scratch_dir);
  if (!inner.ok()) return c.Fail(inner.status());
  for (;;) {
    {
      std::lock_guard lock(c.mu);
      if (!c.error.ok()) return;
    }
    size_t i = c.next++;
    if (i >= c.groups.size()) return;
    if (Interrupted()) return c.Fail(Status(Code::kInterrupted, "interrupted"));
    Status st = JudgeGroup(c, *image, *inner, c.groups[i]);
    if (!st.ok()) return c.Fail(st);
  }
}

// What the outer reduction fixed, in torn check's words (checker/result.cc).
std::vector<std::string> ReductionLines(const classes::ReductionSummary& s) {
  std::vector<std::string> out{"outer classes: " + classes::DescribeReduction(s) +
                               " (the backing file's data is read, never masked)"};
  for (const auto& line : s.not_reduced) out.push_back("outer classes: not reduced: " + line);
  return out;
}

// The result's states, classes, violations and per-segment groups from what the workers judged.
void Finish(Context& c, GateResult& result) {
  std::sort(c.judged.begin(), c.judged.end(), [](const Judged& a, const Judged& b) { return a.id < b.id; });
  result.checked = c.judged.size();
  result.outer_classes = c.outer_judged;
  result.inner_classes = c.inner_judged;
  models::BigCount covered = 0;
  for (const Judged& j : c.judged) covered += models::BigCount(j.covers);
  result.covered = covered.str();
  if (c.lost > 0) {
    result.notes.push_back(fmt::format("classes: {} lower states not covered: class proofs that failed for too "
                                       "many writes at once (their states were judged alone)",
                                       c.lost.str()));
    for (const auto& n : c.lost_notes) result.notes.push_back("classes: " + n);
    if (c.alone > c.lost_notes.size())
      result.notes.push_back(fmt::format("classes: ... and {} more states judged alone", c.alone - c.lost_notes.size()));
  }
  if (c.inner_unreduced)
    result.notes.push_back(fmt::format("inner classes: {} extracted images keyed by their bytes (first: {})",
                                       c.inner_unreduced, c.inner_unreduced_why));
  std::map<size_t, SegmentGroup> groups;
  for (const auto& seg : c.states->segments()) {
    auto& g = groups[seg.index];
    g.segment = seg.index;
    g.barrier = seg.barrier;
    g.first = seg.first;
    g.last = seg.last;
  }
  for (const Judged& j : c.judged) {
    JudgedState js{j.id, j.state.segment, j.state.crash_point, j.state.dropped, j.fixed, j.covers,
                   j.outer.Hex(), j.inner ? j.inner->Hex() : "", {}};
    for (const auto& f : j.failed) js.failed.emplace_back(f.level, f.verdict.oracle);
    result.states.push_back(std::move(js));
    auto& g = groups[j.state.segment];
    ++g.states;
    for (const auto& f : j.failed) {
      GateViolation v;
      v.id = result.violations.size() + 1;
      v.state = j.id;
      v.level = f.level;
      v.oracle = f.verdict.oracle;
      v.segment = j.state.segment;
      v.crash_point = j.state.crash_point;
      v.dropped = j.state.dropped;
      v.detail = f.verdict.detail;
      v.covers = j.covers;
      if (result.classes) {
        v.outer_class = j.outer.Hex();
        if (j.inner) v.inner_class = j.inner->Hex();
      }
      result.violations.push_back(v);
      g.violations.push_back(v);
    }
  }
  for (auto& [i, g] : groups)
    if (g.states) result.groups.push_back(std::move(g));
}

}  // namespace

void SplitExpectations(const trace::Expectations& all, trace::Expectations& outer, trace::Expectations& inner) {
  for (const auto& [mark, manifest] : all)
    (mark.starts_with(kInnerManifestPrefix) ? inner : outer)[mark] = manifest;
}

Status CheckLowerStates(const GateOptions& o, const CheckInput& in, GateResult& result) {
  SweepStaleTemporaries(o.scratch_dir);  // what a torn killed with SIGKILL left
  TORN_ASSIGN_OR_RETURN(trace::Log log, trace::Log::Open(in.trace));
  TORN_ASSIGN_OR_RETURN(nlohmann::json description, trace::ReadDescription(in.trace));
  auto from = log.FindMark(in.from_mark);
  if (!from && in.from_mark == kSetupMark)
    return BadInput("the workload " + result.workload + " sent no mark '" + std::string(kSetupMark) +
                    "' (gate/workload.h: mark it once the stack is built)");
  if (!from) return BadInput(fmt::format("{}: no mark '{}'", in.trace, in.from_mark));
  result.entries = log.size();

  Context c;
  c.options = &o;
  c.log = &log;
  TORN_ASSIGN_OR_RETURN(c.outer_plan, DataPlan::Build(log, in.outer));
  TORN_ASSIGN_OR_RETURN(c.inner_plan, DataPlan::Build(log, in.inner));
  c.outer_data = !in.outer.empty();
  if (c.outer_data && o.outer != OuterFs::kExt4)
    return BadInput(fmt::format("the workload {} recorded outer manifests ({}...): the outer data oracle reads "
                                "ext4 images only, and the outer file system is {}",
                                result.workload, in.outer.begin()->first, OuterFsName(o.outer)));
  c.outer_classes = o.classes && o.outer == OuterFs::kExt4;
  for (const auto& r : c.inner_plan.rules()) result.inner_marks.push_back(r.mark);
  for (const auto& r : c.outer_plan.rules()) result.outer_marks.push_back(r.mark);
  c.image_bytes = checker::ImageBytes(log, description.value("device_bytes", uint64_t{0}));

  models::SpaceOptions space;
  space.from_entry = *from;
  space.max_states = o.max_states;
  space.seed = o.seed;
  space.digests = false;  // the images are digested as they are built
  std::unique_ptr<classes::Reducer> reducer;
  result.classes = o.classes;
  if (c.outer_classes) {
    TORN_ASSIGN_OR_RETURN(reducer, classes::Reducer::Create(log, {.image_bytes = c.image_bytes,
                                                                  .scratch_dir = o.scratch_dir,
                                                                  .data = &c.outer_plan,
                                                                  .extra_read_files = {kBackingFile}}));
    space.fix_units = reducer->Callback();
  }
  TORN_ASSIGN_OR_RETURN(models::StateSpace states, models::StateSpace::Build(log, space));
  c.states = &states;
  c.reducer = reducer.get();
  if (reducer) result.reductions = ReductionLines(reducer->summary());
  if (o.classes && !c.outer_classes)
    result.reductions.push_back(fmt::format("outer classes: off ({}): classes/ know ext4 only, so each lower state "
                                            "is judged by itself (its key: the image's digest and data rules); "
                                            "inner classes on",
                                            OuterFsName(o.outer)));
  models::Coverage cov = states.coverage();
  result.possible = cov.possible.str();
  result.generated = cov.generated;
  result.strategy = cov.strategy;
  TORN_RETURN_IF_ERROR(states.ForEach([&](const models::CrashState& st) {
    c.groups.push_back(st);
    return Status::Ok();
  }));

  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, o.jobs); ++i) workers.emplace_back([&] { Worker(c); });
  auto say = [&] {
    std::lock_guard lock(c.mu);
    o.on_progress(fmt::format("checked {}/{} groups of lower crash states: {} states, {} outer and {} inner "
                              "classes judged",
                              c.groups_done.load(), c.groups.size(), c.judged.size(), c.outer_judged,
                              c.inner_judged));
  };
  std::thread ticker;
  std::atomic<bool> ticking{bool(o.on_progress)};
  if (o.on_progress) {
    ticker = std::thread([&] {
      auto last = std::chrono::steady_clock::now();
      uint64_t said = ~0ull;
      while (ticking) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (std::chrono::steady_clock::now() - last < std::chrono::seconds(2) || said == c.groups_done) continue;
        said = c.groups_done;
        last = std::chrono::steady_clock::now();
        say();
      }
    });
  }
  for (auto& w : workers) w.join();
  ticking = false;
  if (ticker.joinable()) ticker.join();
  if (!c.error.ok()) return c.error;
  if (o.on_progress) say();
  Finish(c, result);
  return Status::Ok();
}

}  // namespace torn::gate
