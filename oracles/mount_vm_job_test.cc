// The mount job's report parser (mount_vm_job.h) on report texts as the guest writes them: complete,
// cut short by a panic, with a hang, and damaged. The job itself runs in mount_vm_test.cc.
#include "oracles/mount_vm_job.h"

#include <gtest/gtest.h>

namespace torn::oracles {
namespace {

TEST(MountJobReport, ParsesEveryKindOfLine) {
  auto r = ParseMountReport(
      "TORN-MOUNT-BEGIN 0\r\n"
      "TORN-MOUNT-KMSG 0 [    3.1] EXT4-fs (loop0): mounted filesystem\r\n"
      "TORN-MOUNT-END 0 0 0\r\n"
      "TORN-MOUNT-BEGIN 1\n"
      "TORN-MOUNT-ERR 1 mount: mounting /dev/loop0 on /mnt failed: Invalid argument\n"
      "TORN-MOUNT-END 1 255 -1\n"
      "TORN-EXIT 0\n",
      2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].ended);
  EXPECT_EQ((*r)[0].mount_rc, 0);
  EXPECT_EQ((*r)[0].umount_rc, 0);
  ASSERT_EQ((*r)[0].kernel.size(), 1u);
  EXPECT_EQ((*r)[0].kernel[0], "[    3.1] EXT4-fs (loop0): mounted filesystem");
  EXPECT_EQ((*r)[1].mount_rc, 255);
  EXPECT_EQ((*r)[1].umount_rc, -1);
  EXPECT_EQ((*r)[1].mount_errors.size(), 1u);
}

TEST(MountJobReport, TheWalksLines) {
  auto r = ParseMountReport(
      "TORN-MOUNT-BEGIN 0\n"
      "TORN-MOUNT-WALK-ERR 0 find: /mnt/dir/sub: Structure needs cleaning\n"
      "TORN-MOUNT-WALKED 0 13\n"
      "TORN-MOUNT-KMSG 0 EXT4-fs error (device loop0): ext4_lookup:1855: inode #12: comm find: deleted inode "
      "referenced: 13\n"
      "TORN-MOUNT-END 0 0 0\n"
      "TORN-MOUNT-BEGIN 1\n"
      "TORN-MOUNT-END 1 0 0\n",
      2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].walked, 13);
  ASSERT_EQ((*r)[0].walk_errors.size(), 1u);
  EXPECT_EQ((*r)[0].walk_errors[0], "find: /mnt/dir/sub: Structure needs cleaning");
  EXPECT_EQ((*r)[1].walked, -1);  // no walk reported (WALK=0)
  auto bad = ParseMountReport("TORN-MOUNT-BEGIN 0\nTORN-MOUNT-WALKED 0 many\n", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad entry count"), std::string::npos) << bad.status().message();
}

TEST(MountJobReport, CutShortAndHung) {
  auto r = ParseMountReport("TORN-MOUNT-BEGIN 0\nTORN-MOUNT-END 0 0 0\nTORN-MOUNT-BEGIN 1\nTORN-MOUNT-HUNG 1\n", 3);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE((*r)[0].ended);
  EXPECT_TRUE((*r)[1].began);
  EXPECT_FALSE((*r)[1].ended);
  EXPECT_TRUE((*r)[1].hung);
  EXPECT_FALSE((*r)[2].began);
  auto empty = ParseMountReport("", 2);  // the guest died before the job started
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE((*empty)[0].began);
}

TEST(MountJobReport, DamageIsAnErrorNamingTheLine) {
  for (const char* bad : {"TORN-MOUNT-BEGIN 1\n",                       // out of order
                          "TORN-MOUNT-BEGIN 0\nTORN-MOUNT-BEGIN 0\n",   // twice
                          "TORN-MOUNT-END 0 0 0\n",                     // not begun
                          "TORN-MOUNT-BEGIN 0\nTORN-MOUNT-END 0 x 0\n", // bad status
                          "TORN-MOUNT-BEGIN 5\n",                       // no such image
                          "TORN-MOUNT-BEGIN 0\nTORN-MOUNT-END 0 0 0\nTORN-MOUNT-KMSG 0 late\n",
                          "TORN-MOUNT-BEGIN 0\nTORN-MOUNT-WHAT 0\n"}) {
    auto r = ParseMountReport(bad, 2);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("report line"), std::string::npos) << r.status().message();
  }
}

TEST(MountJobReport, FilesListTheImagesAndTheLimit) {
  std::vector<PackedImage> images = {{0, 64 << 20}, {64 << 20, 4096}};
  auto files = MountJobFiles(images, {std::chrono::seconds(42), -1, 1});
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "images");
  EXPECT_EQ(files[0].data, "0 0 67108864\n1 67108864 4096\n");
  EXPECT_NE(files[1].data.find("LIMIT=42\n"), std::string::npos);
  EXPECT_NE(files[1].data.find("HANG_AT=1\n"), std::string::npos);
  EXPECT_NE(MountJobScript().find("--sizelimit"), std::string::npos);
  EXPECT_NE(files[1].data.find("WALK=1\n"), std::string::npos);
  EXPECT_NE(MountJobFiles(images, {std::chrono::seconds(42), -1, -1, false})[1].data.find("WALK=0\n"),
            std::string::npos);
  // The walk: every entry listed (find: readdir and lstat), every file read, every symlink read.
  EXPECT_NE(MountJobScript().find("find \"$1\" -xdev -type f -exec cat {} +"), std::string::npos);
}

}  // namespace
}  // namespace torn::oracles
