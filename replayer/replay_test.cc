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

TEST(ReplayLists, ParsesIndexesAndRanges) {
  EXPECT_EQ(ParseIndexList("7", 10, "--drop").value(), std::vector<size_t>({7}));
  EXPECT_EQ(ParseIndexList("9,3-5,4,0", 10, "--drop").value(), std::vector<size_t>({0, 3, 4, 5, 9}));
  EXPECT_EQ(ParseIndexList("10-10", 10, "--drop").value(), std::vector<size_t>({10}));
}

TEST(ReplayLists, BadTokensAreNamed) {
  auto msg = [](std::string_view list) {
    auto r = ParseIndexList(list, 100, "--drop");
    EXPECT_FALSE(r.ok()) << list;
    EXPECT_EQ(r.status().code(), Code::kBadInput) << list;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(msg("").find("--drop: empty list"), std::string::npos);
  EXPECT_NE(msg("5,x,7").find("--drop: 'x' is not an index or a range"), std::string::npos) << msg("5,x,7");
  EXPECT_NE(msg("5,,7").find("'' is not an index"), std::string::npos);
  EXPECT_NE(msg("5,").find("'' is not an index"), std::string::npos);
  EXPECT_NE(msg("-3").find("'-3' is not an index"), std::string::npos);
  EXPECT_NE(msg("3-").find("'3-' is not an index"), std::string::npos);
  EXPECT_NE(msg("1-2-3").find("'1-2-3' is not an index"), std::string::npos);
  EXPECT_NE(msg("+4").find("'+4' is not an index"), std::string::npos);
  EXPECT_NE(msg("99999999999999999999999").find("is not an index"), std::string::npos);
  EXPECT_NE(msg("101-98").find("'101-98' is a reversed range (write it 98-101)"), std::string::npos)
      << msg("101-98");
  EXPECT_NE(msg("3,101").find("'101': 101 is past the last one allowed (100)"), std::string::npos)
      << msg("3,101");
  EXPECT_NE(msg("90-120").find("'90-120': 120 is past"), std::string::npos);
}

TEST(ReplayLists, TornWriteNamesEntryAndSectors) {
  Fixture f;
  trace::LogBuilder().Write(0, 4, 1).Flush().Write(8, 2, 1).Mark("m").WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());
  auto w = ParseTornWrite(*log, "0:0,2-3", 3);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->entry, 0u);
  EXPECT_EQ(w->sectors, std::vector<uint32_t>({0, 2, 3}));
  auto msg = [&](std::string_view spec, size_t end = 3) {
    auto r = ParseTornWrite(*log, spec, end);
    EXPECT_FALSE(r.ok()) << spec;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(msg("0").find("--torn '0': give ENTRY:SECTORS"), std::string::npos) << msg("0");
  EXPECT_NE(msg("x:1").find("give ENTRY:SECTORS"), std::string::npos);
  EXPECT_NE(msg("1:0").find("entry 1 carries no data"), std::string::npos) << msg("1:0");
  EXPECT_NE(msg("2:0", 1).find("entry 2 is past the end point 1"), std::string::npos) << msg("2:0", 1);
  EXPECT_NE(msg("0:0-4").find("(entry 0 has 4 sectors): '0-4': 4 is past"), std::string::npos) << msg("0:0-4");
}

TEST(ReplaySynthetic, DropAndTornSkipEntriesAndSectors) {
  Fixture f;
  trace::LogBuilder b(512);
  // 0: sectors 0-3 = 0x10..; 1: flush; 2: sector 1 = 0x40; 3: sectors 2-3 = 0x50, 0x51; 4: mark.
  b.Write(0, 4, 0x10).Flush().Write(1, 1, 0x40).Write(2, 2, 0x50).Mark("m");
  b.WriteTo(f.log_path);
  auto log = trace::Log::Open(f.log_path);
  ASSERT_TRUE(log.ok());
  auto r = ReplayToImage(*log, f.img, {.to_entry = 4, .drop = {2}, .torn = {{3, {1}}}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto img = ReadAll(f.img);
  ASSERT_EQ(img.size(), 4u * 512);
  EXPECT_EQ(img[0], 0x10);
  EXPECT_EQ(img[512], 0x11);       // entry 2 dropped
  EXPECT_EQ(img[2 * 512], 0x12);   // entry 3's sector 0 did not land
  EXPECT_EQ(img[3 * 512], 0x51);   // its sector 1 did
  EXPECT_EQ(r->entries_applied, 2u);

  auto bad = ReplayToImage(*log, f.img, {.to_entry = 2, .drop = {3}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--drop: entry 3 is past the end point 2"), std::string::npos)
      << bad.status().message();
  bad = ReplayToImage(*log, f.img, {.to_entry = 4, .drop = {3}, .torn = {{3, {0}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("entry 3 is both dropped and torn"), std::string::npos);
}

}  // namespace
}  // namespace torn::replay
