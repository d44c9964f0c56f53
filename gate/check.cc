#include "gate/check.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/core.h>

#include "base/interrupt.h"
#include "base/temp_file.h"
#include "oracles/data.h"
#include "oracles/durable.h"
#include "ext4/ext4_files.h"
#include "oracles/fsck.h"
#include "checker/state_image.h"
#include "models/digest.h"
#include "models/model.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::gate {
namespace {

using oracles::Oracle;
using oracles::Verdict;

struct Finding {
  Level level;
  Verdict verdict;
};

struct Judged {
  models::CrashState state;
  std::vector<Finding> failed;
};

struct Context {
  const GateOptions* options = nullptr;
  const trace::Log* log = nullptr;
  oracles::DataPlan outer_plan, inner_plan;
  bool outer_data = false;
  uint64_t image_bytes = 0;
  const std::vector<models::Segment>* segments = nullptr;
  std::vector<models::CrashState> states;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> distinct_lower{0}, distinct_inner{0}, done{0};

  std::mutex mu;
  Status error;
  std::map<std::tuple<uint64_t, int, int>, std::vector<Finding>> by_lower;
  std::map<std::pair<uint64_t, int>, std::vector<Finding>> by_inner;
  std::vector<Judged> judged;
};

// The inner level of one extracted image.
Result<std::vector<Finding>> JudgeInner(Context& c, const std::string& inner, int inner_fd,
                                        const oracles::DataPlan::Applies& applies) {
  struct stat st;
  if (::fstat(inner_fd, &st) != 0) return ErrnoError("stat " + inner, errno);
  TORN_ASSIGN_OR_RETURN(uint64_t digest, models::ImageDigest(inner_fd, uint64_t(st.st_size), 512));
  auto key = std::make_pair(digest, applies.key());
  {
    std::lock_guard lock(c.mu);
    if (auto it = c.by_inner.find(key); it != c.by_inner.end()) return it->second;
  }
  std::vector<Finding> out;
  TORN_ASSIGN_OR_RETURN(Verdict fsck, oracles::RunFsck(inner, c.options->fsck));
  if (!fsck.ok) out.push_back({Level::kInner, fsck});
  Verdict data = oracles::CheckData(inner, applies);
  if (!data.ok) out.push_back({Level::kInner, data});
  ++c.distinct_inner;
  std::lock_guard lock(c.mu);
  c.by_inner.emplace(key, out);
  return out;
}

// The outer level on the lower state's image, which the outer journal replay writes to; the caller
// puts it back (StateImage::Restore).
Result<std::vector<Finding>> JudgeState(Context& c, checker::StateImage& image, const TempFile& inner,
                                        const models::CrashState& st) {
  TORN_RETURN_IF_ERROR(image.MoveTo(st, &(*c.segments)[st.segment]).with_context("lower state " + std::to_string(st.id)));
  uint64_t digest = image.digest();
  oracles::DurableView durable(st);
  auto outer_applies = c.outer_plan.For(durable);
  auto inner_applies = c.inner_plan.For(durable);
  auto key = std::make_tuple(digest, outer_applies.key(), inner_applies.key());
  {
    std::lock_guard lock(c.mu);
    if (auto it = c.by_lower.find(key); it != c.by_lower.end()) return it->second;
  }
  std::vector<Finding> out;
  // Outer level: journal replay (the image is recovered in place), then the full check.
  oracles::FsckOptions fo = c.options->fsck;
  fo.undo_file = image.undo_path();
  TORN_ASSIGN_OR_RETURN(Verdict fsck, oracles::RunFsck(image.path(), fo));
  if (!fsck.ok) out.push_back({Level::kOuter, fsck});
  if (c.outer_data) {
    Verdict data = oracles::CheckData(image.path(), outer_applies);
    if (!data.ok) out.push_back({Level::kOuter, data});
  }
  // The backing file, out of the recovered outer image.
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
  } else {
    TORN_ASSIGN_OR_RETURN(auto inner_findings, JudgeInner(c, inner.path(), inner.fd(), inner_applies));
    out.insert(out.end(), inner_findings.begin(), inner_findings.end());
  }
  ++c.distinct_lower;
  std::lock_guard lock(c.mu);
  c.by_lower.emplace(key, out);
  return out;
}

void Worker(Context& c) {
  auto fail = [&](const Status& st) {
    std::lock_guard lock(c.mu);
    if (c.error.ok()) c.error = st;
  };
  auto image = checker::StateImage::Create(*c.log, c.image_bytes, c.options->scratch_dir);
  if (!image.ok()) return fail(image.status().with_context("scratch images in " + c.options->scratch_dir));
  auto inner = TempFile::Create("torn-gate-inner-", c.options->scratch_dir);
  if (!inner.ok()) return fail(inner.status());
  for (;;) {
    {
      std::lock_guard lock(c.mu);
      if (!c.error.ok()) return;
    }
    size_t i = c.next++;
    if (i >= c.states.size()) return;
    if (Interrupted()) return fail(Status(Code::kInterrupted, "interrupted"));
    auto r = JudgeState(c, *image, *inner, c.states[i]);
    Status restored = image->Restore();  // whatever the oracles did
    if (!r.ok()) return fail(r.status());
    if (!restored.ok()) return fail(restored);
    std::lock_guard lock(c.mu);
    c.judged.push_back({c.states[i], std::move(r).value()});
    ++c.done;
  }
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
  auto from = log.FindMark(kSetupMark);
  if (!from) return BadInput("the workload " + result.workload + " sent no mark '" + std::string(kSetupMark) +
                             "' (gate/workload.h: mark it once the stack is built)");
  if (in.inner.empty())
    return BadInput("the workload " + result.workload +
                    " recorded no inner manifest (`manifest inner-NAME $INNER`, gate/workload.h)");
  result.entries = log.size();

  Context c;
  c.options = &o;
  c.log = &log;
  TORN_ASSIGN_OR_RETURN(c.outer_plan, oracles::DataPlan::Build(log, in.outer));
  TORN_ASSIGN_OR_RETURN(c.inner_plan, oracles::DataPlan::Build(log, in.inner));
  c.outer_data = !in.outer.empty();
  for (const auto& r : c.inner_plan.rules()) result.inner_marks.push_back(r.mark);
  for (const auto& r : c.outer_plan.rules()) result.outer_marks.push_back(r.mark);
  c.image_bytes = checker::ImageBytes(log, description.value("device_bytes", uint64_t{0}));

  models::SpaceOptions space;
  space.from_entry = *from;
  space.max_states = o.max_states;
  space.seed = o.seed;
  space.digests = false;  // the images are digested as they are built
  TORN_ASSIGN_OR_RETURN(models::StateSpace states, models::StateSpace::Build(log, space));
  c.segments = &states.segments();
  models::Coverage cov = states.coverage();
  result.possible = cov.possible.str();
  result.generated = cov.generated;
  result.strategy = cov.strategy;
  TORN_RETURN_IF_ERROR(states.ForEach([&](const models::CrashState& st) {
    c.states.push_back(st);
    return Status::Ok();
  }));

  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, o.jobs); ++i) workers.emplace_back([&] { Worker(c); });
  std::thread ticker;
  std::atomic<bool> ticking{bool(o.on_progress)};
  if (o.on_progress) {
    ticker = std::thread([&] {
      uint64_t last = ~0ull;
      while (ticking) {
        uint64_t d = c.done.load();
        if (d != last && d % 100 == 0)
          o.on_progress(fmt::format("checked {}/{} lower crash states", d, c.states.size()));
        last = d;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  for (auto& w : workers) w.join();
  ticking = false;
  if (ticker.joinable()) ticker.join();
  if (!c.error.ok()) return c.error;
  if (o.on_progress) o.on_progress(fmt::format("checked {}/{} lower crash states", c.done.load(), c.states.size()));

  std::sort(c.judged.begin(), c.judged.end(),
            [](const Judged& a, const Judged& b) { return a.state.id < b.state.id; });
  result.checked = c.judged.size();
  result.distinct_lower = c.distinct_lower;
  result.distinct_inner = c.distinct_inner;
  std::map<size_t, SegmentGroup> groups;
  for (const auto& seg : states.segments()) {
    auto& g = groups[seg.index];
    g.segment = seg.index;
    g.barrier = seg.barrier;
    g.first = seg.first;
    g.last = seg.last;
  }
  for (const auto& j : c.judged) {
    auto& g = groups[j.state.segment];
    ++g.states;
    for (const auto& f : j.failed) {
      GateViolation v;
      v.id = result.violations.size() + 1;
      v.state = j.state.id;
      v.level = f.level;
      v.oracle = f.verdict.oracle;
      v.segment = j.state.segment;
      v.crash_point = j.state.crash_point;
      v.dropped = j.state.dropped;
      v.detail = f.verdict.detail;
      result.violations.push_back(v);
      g.violations.push_back(v);
    }
  }
  for (auto& [i, g] : groups)
    if (g.states) result.groups.push_back(std::move(g));
  return Status::Ok();
}

}  // namespace torn::gate
