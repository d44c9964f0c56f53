// The materializer against the reference: for every model, states materialized incrementally (in
// enumeration order, and jumping between random states) have the same bytes as images built from
// scratch, and the digests of the enumerator, the materializer and a full read all agree. On synthetic
// logs (every state) and on the real-kernel samples (a few hundred random states per model), onto
// image files and onto a loop device.
#include "replayer/materializer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "base/loop_device.h"
#include "base/temp_file.h"
#include "models/digest.h"
#include "trace/log_builder.h"

namespace torn::replay {
namespace {

using models::ModelKind;

constexpr ModelKind kModels[] = {ModelKind::kPrefix, ModelKind::kEpoch, ModelKind::kFuaBarrier,
                                 ModelKind::kTornSector};

// Images on tmpfs when there is one (what the checker uses too): the test measures bytes, not disks.
Result<TempDir> ScratchDir() {
  return TempDir::Create("torn-mat-", ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "");
}

std::string Differ(const std::string& a, const std::string& b) {
  auto fa = OpenFile(a, O_RDONLY), fb = OpenFile(b, O_RDONLY);
  if (!fa.ok() || !fb.ok()) return "cannot open";
  auto na = FileSize(fa->get()), nb = FileSize(fb->get());
  if (*na != *nb) return "sizes " + std::to_string(*na) + " and " + std::to_string(*nb);
  static std::vector<std::byte> x(1 << 20), y(1 << 20);
  // A chunk that is a hole in both files reads as zeros in both: skip it.
  auto hole = [](int fd, uint64_t off, uint64_t end) {
    off_t d = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
    return (d < 0 && errno == ENXIO) || static_cast<uint64_t>(d) >= end;
  };
  for (uint64_t off = 0; off < *na; off += x.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(x.size(), *na - off));
    if (hole(fa->get(), off, off + n) && hole(fb->get(), off, off + n)) continue;
    if (!PreadFull(fa->get(), std::span(x.data(), n), off).ok() ||
        !PreadFull(fb->get(), std::span(y.data(), n), off).ok())
      return "read error";
    if (std::memcmp(x.data(), y.data(), n) != 0) {
      size_t i = 0;
      while (x[i] == y[i]) ++i;
      return "first difference at byte " + std::to_string(off + i);
    }
  }
  return "";
}

// Moves `m` to every state whose id is in `ids` (all when empty) and checks it against the reference.
void CheckStates(const trace::Log& log, models::SpaceOptions o, Materializer& m,
                 const std::string& ref_path, const std::set<uint64_t>& ids, uint64_t device_bytes) {
  auto space = models::StateSpace::Build(log, o);
  ASSERT_TRUE(space.ok()) << space.status().message();
  uint64_t checked = 0;
  Status st = space->ForEach([&](const models::CrashState& s) {
    if (!ids.empty() && !ids.count(s.id)) return Status::Ok();
    TORN_RETURN_IF_ERROR(m.MoveTo(s, &space->segments()[s.segment]));
    TORN_RETURN_IF_ERROR(BuildFromScratch(log, s, ref_path, device_bytes));
    std::string diff = Differ(m.path(), ref_path);
    EXPECT_EQ(diff, "") << ModelName(o.model) << " state " << s.id << " segment " << s.segment;
    auto full = models::ImageDigest(m.fd(), m.bytes(), log.sectorsize());
    EXPECT_TRUE(full.ok());
    EXPECT_EQ(m.digest(), *full) << "state " << s.id;
    EXPECT_EQ(s.digest, *full) << "state " << s.id;
    ++checked;
    return diff.empty() ? Status::Ok() : Internal("stop at the first difference");
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(checked, ids.empty() ? space->coverage().generated : ids.size());
}

std::set<uint64_t> RandomIds(uint64_t generated, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint64_t> ids;
  while (ids.size() < std::min<uint64_t>(count, generated)) ids.insert(rng() % generated);
  return ids;
}

trace::Log RandomLog(std::mt19937_64& rng) {
  trace::LogBuilder b(512);
  int n = 4 + static_cast<int>(rng() % 14);
  for (int i = 0; i < n; ++i) {
    uint8_t fill = static_cast<uint8_t>(rng());
    switch (rng() % 8) {
      case 0: b.Flush(); break;
      case 1: b.Mark("m"); break;
      case 2: b.Write(rng() % 12, 1 + rng() % 4, fill, trace::kFlagFua); break;
      case 3: b.Discard(rng() % 12, 1 + rng() % 4); break;
      case 4: b.Write(rng() % 12, 1 + rng() % 4, 0); break;  // a write of zeros
      default: b.Write(rng() % 12, 1 + rng() % 4, fill); break;
    }
  }
  auto log = trace::Log::FromBytes(b.Build(), "synthetic");
  EXPECT_TRUE(log.ok());
  return std::move(log).value();
}

TEST(MaterializerSynthetic, EveryStateOfRandomLogsMatchesTheReference) {
  auto dir = ScratchDir();
  ASSERT_TRUE(dir.ok());
  std::mt19937_64 rng(3);
  for (int round = 0; round < 60; ++round) {
    trace::Log log = RandomLog(rng);
    if (log.max_byte_touched() == 0) continue;
    for (ModelKind model : kModels) {
      auto m = Materializer::Open(log, dir->path() + "/img");
      ASSERT_TRUE(m.ok()) << m.status().message();
      CheckStates(log, {.model = model, .max_states = 64}, *m, dir->path() + "/ref", {}, 0);
      if (HasFatalFailure() || HasFailure()) return;
    }
  }
}

TEST(MaterializerSynthetic, TooSmallAnImageIsRefused) {
  auto dir = ScratchDir();
  ASSERT_TRUE(dir.ok());
  trace::LogBuilder b(512);
  b.Write(100, 1, 1);
  auto log = trace::Log::FromBytes(b.Build(), "synthetic");
  auto m = Materializer::Open(*log, dir->path() + "/img", {.device_bytes = 4096});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("4096 bytes cannot hold the log's writes (51712 bytes)"),
            std::string::npos)
      << m.status().message();
}

class MaterializerOnSamples : public ::testing::TestWithParam<std::string> {};

std::string SampleLog(const std::string& name) {
  return std::string(TORN_SOURCE_DIR) + "/tests/samples/" + name + "/log.img.zst";
}

TEST_P(MaterializerOnSamples, RandomStatesOfEveryModelMatchTheReference) {
  auto log = trace::Log::Open(SampleLog(GetParam()));
  ASSERT_TRUE(log.ok()) << log.status().message();
  auto dir = ScratchDir();
  ASSERT_TRUE(dir.ok());
  for (ModelKind model : kModels) {
    models::SpaceOptions o{.model = model, .max_states = 3000, .seed = 5};
    auto space = models::StateSpace::Build(*log, o);
    ASSERT_TRUE(space.ok());
    auto m = Materializer::Open(*log, dir->path() + "/img");
    ASSERT_TRUE(m.ok()) << m.status().message();
    // 100 + 150 random states per model over the two samples.
    size_t count = GetParam() == "ext4-512" ? 100 : 150;
    CheckStates(*log, o, *m, dir->path() + "/ref", RandomIds(space->coverage().generated, count, 11),
                0);
    EXPECT_EQ(m->stats().rebuilds, 0u);  // enumeration order never moves the base back
  }
}

TEST_P(MaterializerOnSamples, OntoALoopDevice) {
  auto log = trace::Log::Open(SampleLog(GetParam()));
  ASSERT_TRUE(log.ok());
  auto dir = ScratchDir();
  ASSERT_TRUE(dir.ok());
  std::string backing = dir->path() + "/backing";
  {
    auto f = OpenFile(backing, O_RDWR | O_CREAT | O_TRUNC);
    ASSERT_TRUE(f.ok());
    std::vector<std::byte> junk(1 << 20, std::byte{'J'});  // the device starts dirty
    for (uint64_t off = 0; off < log->max_byte_touched(); off += junk.size())
      ASSERT_TRUE(PwriteFull(f->get(), junk, off).ok());
  }
  auto loop = LoopDevice::Attach(backing);
  ASSERT_TRUE(loop.ok()) << loop.status().message();
  auto m = Materializer::Open(*log, loop->path());
  ASSERT_TRUE(m.ok()) << m.status().message();
  models::SpaceOptions o{.model = ModelKind::kFuaBarrier, .max_states = 3000, .seed = 9};
  auto space = models::StateSpace::Build(*log, o);
  ASSERT_TRUE(space.ok());
  CheckStates(*log, o, *m, dir->path() + "/ref", RandomIds(space->coverage().generated, 25, 2), 0);
}

INSTANTIATE_TEST_SUITE_P(Real, MaterializerOnSamples, ::testing::Values("ext4-512", "ext4-4k"));

}  // namespace
}  // namespace torn::replay
