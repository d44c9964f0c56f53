#include "replayer/replay.h"

#include <unistd.h>

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "base/loop_device.h"
#include "base/temp_file.h"
#include "trace/log_builder.h"

namespace torn::replay {
namespace {

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Fixture {
  TempDir dir = std::move(TempDir::Create("torn-replay-").value());
  std::string log_path = dir.path() + "/log";
  std::string img = dir.path() + "/img";
};

TEST(ReplaySynthetic, AppliesInOrderLaterWriteWinsDiscardZeroes) {
  Fixture f;
  trace::LogBuilder b(512);
  b.Write(0, 4, 0x10).Flush().Write(2, 1, 0x77).Mark("one").Discard(3, 1).Mark("two");
  b.WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());

  auto r = ReplayToImage(*log, f.img, {.to_mark = "one"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->last_entry, 3u);
  auto img = ReadAll(f.img);
  ASSERT_EQ(img.size(), 4u * 512);  // covers every write of the whole log
  EXPECT_EQ(img[0], 0x10);
  EXPECT_EQ(img[512], 0x11);
  EXPECT_EQ(img[2 * 512], 0x77);  // the later write won
  EXPECT_EQ(img[3 * 512], 0x13);

  ASSERT_TRUE(ReplayToImage(*log, f.img, {.to_mark = "two"}).ok());
  img = ReadAll(f.img);
  EXPECT_EQ(img[3 * 512], 0);  // discarded
  EXPECT_EQ(img[3 * 512 + 511], 0);

  ASSERT_TRUE(ReplayToImage(*log, f.img, {.to_entry = 0}).ok());
  img = ReadAll(f.img);
  EXPECT_EQ(img[2 * 512], 0x12);
}

TEST(ReplaySynthetic, BadEndPoints) {
  Fixture f;
  trace::LogBuilder().Write(0, 1, 1).Mark("m").WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());
  auto r = ReplayToImage(*log, f.img, {.to_mark = "nope"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no mark named 'nope' (marks: m)"), std::string::npos);
  r = ReplayToImage(*log, f.img, {.to_entry = 2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("past the last entry (1)"), std::string::npos);
}

TEST(ReplaySynthetic, WriteBeyondDeviceSizeNamesTheEntry) {
  Fixture f;
  trace::LogBuilder().Write(0, 1, 1).Write(100, 1, 1).WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());
  auto r = ReplayToImage(*log, f.img, {.device_bytes = 50 * 512});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("entry 1: sectors 100..101 run past"), std::string::npos)
      << r.status().message();
}

TEST(ReplaySynthetic, OntoALoopDeviceMatchesTheImageFile) {
  Fixture f;
  trace::LogBuilder b(512);
  b.Write(0, 8, 0x30).Discard(2, 2).Write(100, 3, 0x55, trace::kFlagFua);
  b.WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());
  const uint64_t kSize = 1 << 20;
  ASSERT_TRUE(ReplayToImage(*log, f.img, {.device_bytes = kSize}).ok());

  std::string backing = f.dir.path() + "/backing";
  {
    std::ofstream out(backing, std::ios::binary);
    std::vector<char> junk(kSize, 'J');  // the device starts dirty: replay must zero it
    out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  {
    auto loop = LoopDevice::Attach(backing);
    ASSERT_TRUE(loop.ok()) << loop.status().message();
    auto r = ReplayToImage(*log, loop->path(), {});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  EXPECT_EQ(ReadAll(backing), ReadAll(f.img));
}

}  // namespace
}  // namespace torn::replay
