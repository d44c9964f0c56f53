#include "ext4/image_view.h"

#include <fcntl.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "ext4/ext2_view.h"

namespace torn::ext4 {
namespace {

TEST(SectorSet, MergesTouchingAndOverlappingRanges) {
  SectorSet s;
  s.Add(10, 5);   // [10,15)
  s.Add(20, 5);   // [20,25)
  s.Add(15, 5);   // joins both
  ASSERT_EQ(s.ranges().size(), 1u);
  EXPECT_EQ(s.ranges().begin()->first, 10u);
  EXPECT_EQ(s.ranges().begin()->second, 25u);
  s.Add(30, 1);
  EXPECT_EQ(s.sectors(), 16u);
  EXPECT_TRUE(s.Contains(24));
  EXPECT_FALSE(s.Contains(25));
  EXPECT_TRUE(s.Intersects(25, 6));
  EXPECT_FALSE(s.Intersects(25, 5));
  EXPECT_FALSE(s.Intersects(0, 10));
  SectorSet b;
  b.AddBytes(1000, 30);  // bytes 1000..1029: sectors 1 and 2
  EXPECT_EQ(b.sectors(), 2u);
  EXPECT_TRUE(b.Contains(1) && b.Contains(2));
}

// file_only: what the overlay supplies is not recorded (an analysis that wrote a sector and reads it
// back did not read the image there); ReadUnrecorded records nothing.
TEST(ImageView, FileOnlyRecordingSkipsTheOverlaySynthetic) {
  auto img = TempFile::Create("torn-view-test-", "/dev/shm");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(::ftruncate(img->fd(), 64 * 512), 0);
  ImageView view(img->fd(), 64 * 512);
  std::vector<std::byte> sector(512, std::byte{7});
  view.Put(3 * 512, sector);
  view.Put(5 * 512, sector);
  SectorSet reads;
  view.RecordInto(&reads, /*file_only=*/true);
  std::vector<std::byte> buf(8 * 512);
  ASSERT_TRUE(view.Read(0, buf).ok());
  EXPECT_EQ(buf[3 * 512], std::byte{7});
  EXPECT_EQ(reads.sectors(), 6u);
  EXPECT_TRUE(reads.Contains(0) && reads.Contains(4) && reads.Contains(7));
  EXPECT_FALSE(reads.Contains(3) || reads.Contains(5));
  ASSERT_TRUE(view.ReadUnrecorded(20 * 512, buf).ok());
  EXPECT_FALSE(reads.Contains(20));
  view.RecordInto(&reads);  // everything
  ASSERT_TRUE(view.Read(3 * 512, std::span(buf).first(512)).ok());
  EXPECT_TRUE(reads.Contains(3));
}

// A small real file system (mke2fs) read through a view: libext2fs sees the overlay, the view records
// what libext2fs read, and nothing reaches the file.
TEST(ImageView, LibExt2fsReadsTheOverlayAndEveryReadIsRecorded) {
  auto img = TempFile::Create("torn-view-test-", "/dev/shm");
  ASSERT_TRUE(img.ok()) << img.status().message();
  ASSERT_EQ(::ftruncate(img->fd(), 8 << 20), 0);
  SpawnOptions mk;
  mk.argv = {"mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-L", "before", img->path()};
  auto r = RunChild(mk);
  ASSERT_TRUE(r.ok() && r->status.success()) << (r.ok() ? r->output : r.status().message());

  ImageView view(img->fd(), 8 << 20);
  std::vector<std::byte> sb(1024);
  ASSERT_TRUE(view.Read(1024, sb).ok());
  // s_volume_name at 0x78 of the super block; change it in the view only (checksums are ignored).
  std::memcpy(sb.data() + 0x78, "after\0\0", 7);
  view.Put(1024, sb);

  SectorSet reads;
  view.RecordInto(&reads);
  auto fs = OpenExt2(view, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS);
  ASSERT_TRUE(fs.ok()) << fs.status().message();
  EXPECT_STREQ(reinterpret_cast<const char*>(fs->get()->super->s_volume_name), "after");
  EXPECT_TRUE(reads.Contains(2) && reads.Contains(3)) << "the super block (sectors 2-3) was read";
  view.RecordInto(nullptr);

  std::vector<std::byte> on_disk(1024);
  ASSERT_TRUE(PreadFull(img->fd(), on_disk, 1024).ok());
  EXPECT_EQ(std::memcmp(on_disk.data() + 0x78, "before", 6), 0) << "the file was written to";

  std::vector<std::byte> past(512);
  EXPECT_EQ(view.Read((8 << 20) - 256, past).code(), Code::kBadInput);
}

}  // namespace
}  // namespace torn::ext4
