// torn_bench_states: how fast crash states are generated (with and without content digests) and how
// fast their images are materialized, on the real-kernel samples and on corpus/*/ when present.
// The reference is the loop users run today: an image built from a zeroed one per state
// (BuildFromScratch, xfstests' replay-log style). Images go to tmpfs (/dev/shm) when available.
//
//   torn_bench_states [--max-states N] [--torn-max-states N] [--images N] [--scratch N] [TRACE...]
//
// torn-sector gets its own, smaller budget: its bounded random states over a window of s sectors
// differ from each other in about s/2 sectors (mkfs's discard alone is 131072 sectors), so each costs
// O(s) to generate and to write.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/temp_file.h"
#include "models/model.h"
#include "replayer/materializer.h"
#include "trace/log.h"

namespace torn {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<std::string> DefaultTraces() {
  std::vector<std::string> out;
  std::filesystem::path src(TORN_SOURCE_DIR);
  for (const char* s : {"ext4-512", "ext4-4k"})
    out.push_back((src / "tests/samples" / s / "log.img.zst").string());
  if (std::filesystem::is_directory(src / "corpus"))
    for (const auto& d : std::filesystem::directory_iterator(src / "corpus"))
      if (d.is_directory()) out.push_back(d.path().string());
  return out;
}

// Enumerates the space; with a materializer, puts every `stride`-th state on the image (`count` of
// them). Per second: states enumerated (the whole walk timed), or images materialized (only the
// MoveTo calls timed).
Result<double> Enumerate(const models::StateSpace& space, replay::Materializer* m, uint64_t stride,
                         uint64_t* count) {
  auto t = Clock::now();
  double moving = 0;
  uint64_t n = 0;
  uint64_t sink = 0;
  Status st = space.ForEach([&](const models::CrashState& s) {
    sink += s.digest + s.dropped.size();
    if (s.id % stride) return Status::Ok();
    ++n;
    if (!m) return Status::Ok();
    auto t0 = Clock::now();
    Status moved = m->MoveTo(s, &space.segments()[s.segment]);
    moving += Since(t0);
    return moved;
  });
  if (!st.ok()) return st;
  double secs = m ? moving : Since(t);
  *count = n + (sink == 42);  // keep the loop's work observable
  return n / secs;
}

int Run(int argc, char** argv) {
  uint64_t max_states = 100000, torn_max_states = 2000, images = 20000, scratch = 30;
  std::vector<std::string> traces;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--max-states" && i + 1 < argc) max_states = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--torn-max-states" && i + 1 < argc) torn_max_states = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--images" && i + 1 < argc) images = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--scratch" && i + 1 < argc) scratch = std::strtoull(argv[++i], nullptr, 10);
    else traces.push_back(a);
  }
  if (traces.empty()) traces = DefaultTraces();
  auto dir = TempDir::Create("torn-bench-", ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "");
  if (!dir.ok()) return fmt::print(stderr, "{}\n", dir.status().message()), 2;

  fmt::print("{:<28} {:<12} {:>9} {:>14} {:>14} {:>13} {:>13} {:>8}\n", "trace", "model", "states",
             "states/s", "states/s", "images/s", "images/s", "speedup");
  fmt::print("{:<28} {:<12} {:>9} {:>14} {:>14} {:>13} {:>13} {:>8}\n", "", "", "generated",
             "(no digest)", "(digests)", "(incremental)", "(scratch)", "");
  for (const std::string& path : traces) {
    auto log = trace::Log::Open(path);
    if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().message()), 2;
    std::string name = std::filesystem::path(path).parent_path().filename().string();
    if (std::filesystem::is_directory(path)) name = std::filesystem::path(path).filename().string();
    for (auto model : {models::ModelKind::kPrefix, models::ModelKind::kEpoch,
                       models::ModelKind::kFuaBarrier, models::ModelKind::kTornSector}) {
      uint64_t budget = model == models::ModelKind::kTornSector ? torn_max_states : max_states;
      models::SpaceOptions o{.model = model, .max_states = budget, .digests = false};
      auto plain = models::StateSpace::Build(*log, o);
      o.digests = true;
      auto hashed = models::StateSpace::Build(*log, o);
      if (!plain.ok() || !hashed.ok()) return fmt::print(stderr, "cannot build\n"), 2;
      uint64_t n_plain = 0, n_hashed = 0, n_images = 0;
      auto r_plain = Enumerate(*plain, nullptr, 1, &n_plain);
      auto r_hashed = Enumerate(*hashed, nullptr, 1, &n_hashed);
      auto m = replay::Materializer::Open(*log, dir->path() + "/image");
      if (!m.ok()) return fmt::print(stderr, "{}\n", m.status().message()), 2;
      // Both image builders take states spread evenly over the whole enumeration.
      uint64_t generated = hashed->coverage().generated;
      auto r_images = Enumerate(*plain, &*m, std::max<uint64_t>(1, generated / images), &n_images);
      uint64_t built = 0, stride = std::max<uint64_t>(1, generated / scratch);
      double building = 0;
      Status st = plain->ForEach([&](const models::CrashState& s) {
        if (s.id % stride) return Status::Ok();
        ++built;
        auto t0 = Clock::now();
        Status b = replay::BuildFromScratch(*log, s, dir->path() + "/scratch");
        building += Since(t0);
        return b;
      });
      double scratch_rate = built / building;
      if (!r_plain.ok() || !r_hashed.ok() || !r_images.ok() || !st.ok())
        return fmt::print(stderr, "benchmark failed\n"), 2;
      fmt::print("{:<28} {:<12} {:>9} {:>14.0f} {:>14.0f} {:>13.0f} {:>13.1f} {:>7.0f}x\n", name,
                 models::ModelName(model), n_plain, *r_plain, *r_hashed, *r_images, scratch_rate,
                 *r_images / scratch_rate);
      std::fflush(stdout);
    }
  }
  fmt::print("\nstates/s: StateSpace::ForEach over all generated states (budget --max-states {}, "
             "torn-sector --torn-max-states {}); images/s: Materializer::MoveTo onto a file in {} "
             "over about --images {} states spread evenly over the enumeration (the rest skipped), "
             "scratch: BuildFromScratch of about --scratch {} states spread the same way (only the "
             "image building is timed in both).\n",
             max_states, torn_max_states, dir->path(), images, scratch);
  return 0;
}

}  // namespace
}  // namespace torn

int main(int argc, char** argv) { return torn::Run(argc, argv); }
