// In-process journal recovery (ext4/recovery.h) against real `e2fsck -E journal_only -y` (clock fixed
// with libfaketime) on crash states of every trace in corpus/.
//
// For each trace: the default model (fua-barrier) from the `mkfs` mark, as `torn check` does; every
// state of every exhaustive segment, and kRandomPerBounded seeded random states of every bounded
// segment. Each state's image is built by checker::StateImage; Recover reads it through a view, then
// e2fsck runs on the image itself with an undo file (-z), whose record says which blocks e2fsck wrote
// and what they held (checker/undo_file.h), and StateImage::Restore puts them back. The comparison is
// ext4::CompareRecovery: every byte outside the stamped fields, and e2fsck's exit status.
//
// States whose images are identical (same content digest) are compared once: Recover and e2fsck are
// both functions of the image's bytes. States Recover calls unsupported are not given to e2fsck.
//
// The test fails on any difference, and when fewer than kMinSupported of the compared states were
// replayed, clean or without a journal. It prints a summary per trace: states, distinct images,
// outcomes, the reasons for unsupported states, time.
//
// Environment (for development): TORN_RECOVERY_TRACES=a,b limits the traces; TORN_RECOVERY_MAX=N
// caps the states per trace.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "base/fd.h"
#include "checker/state_image.h"
#include "checker/undo_file.h"
#include "ext4/recovery.h"
#include "ext4/recovery_check.h"
#include "models/model.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::testing {
namespace {

constexpr uint64_t kRandomPerBounded = 200;  // sampled states per bounded segment
constexpr uint64_t kSeed = 1;
constexpr double kMinSupported = 0.90;
constexpr int kWorkers = 2;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Normalize(const std::string& why) {  // a reason without its numbers, for counting
  return std::regex_replace(why, std::regex("\\b(0x[0-9a-f]+|[0-9]+)\\b"), "N");
}

struct Verdict {
  ext4::RecoveryOutcome outcome = ext4::RecoveryOutcome::kClean;
  std::string why;
  std::vector<ext4::RecoveryDifference> diffs;
  double recover_seconds = 0, e2fsck_seconds = 0;
};

struct TraceStats {
  uint64_t states = 0, images = 0;
  std::map<std::string, uint64_t> outcomes, reasons;
  std::vector<std::string> failures;  // state and differences, the first few
  uint64_t failing = 0;
  double seconds = 0, recover_seconds = 0, e2fsck_seconds = 0;
};

// Recover, then e2fsck with an undo file, compared; the image is put back.
Result<Verdict> JudgeState(checker::StateImage& img) {
  Verdict v;
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(img.path(), O_RDONLY));
  ext4::ImageView view(fd.get(), img.bytes());
  auto t0 = std::chrono::steady_clock::now();
  TORN_ASSIGN_OR_RETURN(ext4::RecoveryResult r, ext4::Recover(view));
  v.recover_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  v.outcome = r.outcome;
  v.why = r.why;
  if (r.outcome == ext4::RecoveryOutcome::kUnsupported) return v;
  TORN_ASSIGN_OR_RETURN(RunResult run, ext4::RunE2fsckJournalOnly(img.path(), img.undo_path()));
  v.e2fsck_seconds = run.seconds;
  ext4::E2fsckRecovery e2;
  e2.exit = run.status;
  e2.output = run.output;
  auto record = checker::ReadUndoFile(img.undo_path());
  if (!record.ok()) return record.status().with_context("e2fsck's undo file");
  ext4::ImageView before(fd.get(), img.bytes());
  // The earliest region of a block holds its bytes before e2fsck: put them on last.
  for (auto it = record->regions.rbegin(); it != record->regions.rend(); ++it)
    before.Put(it->offset, it->bytes);
  for (const auto& region : record->regions) {
    ext4::E2fsckRegion er;
    er.offset = region.offset;
    er.after.resize(region.bytes.size());
    TORN_RETURN_IF_ERROR(PreadFull(fd.get(), er.after, region.offset));
    e2.regions.push_back(std::move(er));
  }
  TORN_ASSIGN_OR_RETURN(v.diffs, ext4::CompareRecovery(r, e2, before));
  TORN_RETURN_IF_ERROR(img.Restore());
  return v;
}

std::string StateText(const models::CrashState& s) {
  std::string d;
  for (size_t i = 0; i < s.dropped.size() && i < 40; ++i) d += (i ? "," : "") + std::to_string(s.dropped[i]);
  if (s.dropped.size() > 40) d += ",…";
  return "state " + std::to_string(s.id) + " (crash point " + std::to_string(s.crash_point) + ", dropped [" +
         d + "])";
}

TraceStats CheckTrace(const std::string& dir, uint64_t max_states) {
  TraceStats stats;
  auto t0 = std::chrono::steady_clock::now();
  auto log_path = trace::ResolveLogPath(dir);
  EXPECT_TRUE(log_path.ok()) << log_path.status().message();
  if (!log_path.ok()) return stats;
  auto log = trace::Log::Open(*log_path);
  EXPECT_TRUE(log.ok()) << log.status().message();
  if (!log.ok()) return stats;
  auto desc = trace::ReadDescription(dir);
  uint64_t bytes = checker::ImageBytes(*log, desc.ok() ? desc->value("device_bytes", uint64_t{0}) : 0);
  models::SpaceOptions o;
  o.seed = kSeed;
  o.digests = false;
  if (auto e = log->FindMark(models::kDefaultFromMark)) o.from_entry = *e;
  auto space = models::StateSpace::Build(*log, o);
  EXPECT_TRUE(space.ok()) << space.status().message();
  if (!space.ok()) return stats;
  const auto& segments = space->segments();
  std::vector<models::CrashState> chosen;
  Status st = space->ForEach([&](const models::CrashState& s) {
    const models::Segment& seg = segments[s.segment];
    bool take = seg.strategy == "exhaustive" ||
                Mix(kSeed ^ Mix(s.id)) % std::max<uint64_t>(seg.generated, 1) < kRandomPerBounded;
    if (take && chosen.size() < max_states) chosen.push_back(s);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();

  std::mutex mu;
  std::unordered_map<uint64_t, Verdict> by_digest;  // image digest -> verdict
  std::atomic<bool> broken{false};
  auto work = [&](size_t begin, size_t end) {
    auto img = checker::StateImage::Create(*log, bytes, "/dev/shm");
    if (!img.ok()) {
      std::lock_guard lock(mu);
      stats.failures.push_back("state image: " + img.status().message());
      broken = true;
      return;
    }
    for (size_t i = begin; i < end && !broken; ++i) {
      const models::CrashState& s = chosen[i];
      Status moved = img->MoveTo(s, &segments[s.segment]);
      Verdict v;
      bool cached = false;
      {
        std::lock_guard lock(mu);
        auto it = by_digest.find(img->digest());
        if (moved.ok() && it != by_digest.end()) v = it->second, cached = true;
      }
      if (!cached) {
        auto judged = moved.ok() ? JudgeState(*img) : Result<Verdict>(moved);
        if (!judged.ok()) {
          std::lock_guard lock(mu);
          stats.failures.push_back(StateText(s) + ": " + judged.status().message());
          ++stats.failing;
          broken = true;
          return;
        }
        v = std::move(judged).value();
      }
      std::lock_guard lock(mu);
      if (!cached) {
        ++stats.images;
        stats.recover_seconds += v.recover_seconds;
        stats.e2fsck_seconds += v.e2fsck_seconds;
        by_digest.emplace(img->digest(), v);
      }
      ++stats.states;
      ++stats.outcomes[std::string(ext4::OutcomeName(v.outcome))];
      if (v.outcome == ext4::RecoveryOutcome::kUnsupported) ++stats.reasons[Normalize(v.why)];
      if (!v.diffs.empty()) {
        ++stats.failing;
        if (stats.failures.size() < 5)
          stats.failures.push_back(StateText(s) + ": " + ext4::DescribeDifferences(v.diffs));
      }
    }
  };
  std::vector<std::thread> threads;
  size_t per = (chosen.size() + kWorkers - 1) / kWorkers;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back(work, std::min(chosen.size(), w * per), std::min(chosen.size(), (w + 1) * per));
  for (auto& t : threads) t.join();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

std::vector<std::string> CorpusTraces() {
  std::vector<std::string> out;
  const char* only = std::getenv("TORN_RECOVERY_TRACES");
  for (const auto& e : std::filesystem::directory_iterator(std::string(TORN_SOURCE_DIR) + "/corpus")) {
    if (!e.is_directory() || !std::filesystem::exists(e.path() / trace::kDescriptionFile)) continue;
    std::string name = e.path().filename();
    if (only && ("," + std::string(only) + ",").find("," + name + ",") == std::string::npos) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RecoveryCorpus, RecoverMatchesE2fsckOnCrashStates) {
  const char* max_env = std::getenv("TORN_RECOVERY_MAX");
  uint64_t max_states = max_env ? std::strtoull(max_env, nullptr, 10) : UINT64_MAX;
  auto traces = CorpusTraces();
  ASSERT_FALSE(traces.empty());
  uint64_t total = 0, supported = 0, failing = 0;
  std::ostringstream summary;
  for (const std::string& dir : traces) {
    TraceStats s = CheckTrace(dir, max_states);
    std::string name = std::filesystem::path(dir).filename();
    summary << name << ": " << s.states << " states, " << s.images << " distinct images, ";
    for (const auto& [k, n] : s.outcomes) summary << k << " " << n << ", ";
    summary << s.failing << " with differences, " << std::fixed << std::setprecision(1) << s.seconds
            << " s (Recover " << std::setprecision(0) << (s.images ? 1e6 * s.recover_seconds / s.images : 0)
            << " us per image, e2fsck " << std::setprecision(1)
            << (s.images ? 1e3 * s.e2fsck_seconds / s.images : 0) << " ms)\n";
    for (const auto& [why, n] : s.reasons) summary << "    unsupported x" << n << ": " << why << "\n";
    for (const auto& f : s.failures) ADD_FAILURE() << name << ": " << f;
    total += s.states;
    failing += s.failing;
    supported += s.states - s.outcomes["unsupported"];
  }
  std::printf("%s", summary.str().c_str());
  std::printf("total: %llu states compared, %llu supported (%.1f%%), %llu with differences\n",
              (unsigned long long)total, (unsigned long long)supported,
              total ? 100.0 * supported / total : 0.0, (unsigned long long)failing);
  EXPECT_EQ(failing, 0u);
  ASSERT_GT(total, 0u);
  EXPECT_GE(double(supported) / double(total), kMinSupported) << "too many states are unsupported";
}

}  // namespace
}  // namespace torn::testing
