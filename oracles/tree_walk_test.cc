// The walk of a mounted tree (tree_walk.h) on a plain directory, the kernel log's parsing
// (kernel_log.h), and the host mount oracle (mount.h, root) on a real ext4 image whose directory names
// a deleted inode: the kernel's ext4_lookup error surfaces, and only because of the walk.
#include "oracles/tree_walk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "base/temp_file.h"
#include "oracles/kernel_log.h"
#include "oracles/mount.h"
#include "oracles/test_images.h"

namespace torn::oracles {
namespace {

void Write(const std::string& path, const std::string& data) {
  auto fd = OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC);
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  ASSERT_TRUE(WriteFull(fd->get(), std::as_bytes(std::span(data))).ok());
}

TEST(TreeWalk, ListsStatsAndReadsEverythingWithoutFollowingLinks) {
  auto dir = TempDir::Create("torn-walk-test-");
  ASSERT_TRUE(dir.ok());
  const std::string d = dir->path();
  ASSERT_EQ(::mkdir((d + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((d + "/a/b").c_str(), 0755), 0);
  Write(d + "/top", "12345");
  Write(d + "/a/b/deep", std::string(70000, 'x'));  // more than one read
  ASSERT_EQ(::symlink("/", (d + "/a/root-link").c_str()), 0);  // not followed
  ASSERT_EQ(::symlink("nowhere", (d + "/dangling").c_str()), 0);
  WalkResult r = WalkTree(d);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_TRUE(r.cut.empty()) << r.cut;
  EXPECT_EQ(r.entries, 7u);  // the root, a, a/b, top, a/b/deep, a/root-link, dangling
  EXPECT_EQ(r.files_read, 2u);
  EXPECT_EQ(r.bytes_read, 70005u);
}

TEST(TreeWalk, ErrorsNameTheEntryAndBoundsCutItShort) {
  WalkResult missing = WalkTree("/nonexistent/torn-walk");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0], ".: open: No such file or directory");
  auto dir = TempDir::Create("torn-walk-test-");
  ASSERT_TRUE(dir.ok());
  for (int i = 0; i < 10; ++i) Write(dir->path() + "/f" + std::to_string(i), "x");
  WalkResult cut = WalkTree(dir->path(), {.max_entries = 5});
  EXPECT_EQ(cut.cut, "more than 5 entries");
}

TEST(KernelLog, RecordsAndDevices) {
  EXPECT_EQ(KmsgMessage("3,1234,9595505549,-;EXT4-fs error (device loop0): ext4_lookup:1789: inode #12: comm ls: "
                        "deleted inode referenced: 13\n SUBSYSTEM=block\n DEVICE=b7:0\n"),
            "EXT4-fs error (device loop0): ext4_lookup:1789: inode #12: comm ls: deleted inode referenced: 13");
  EXPECT_EQ(KmsgMessage("no prefix"), "no prefix");
  EXPECT_TRUE(MentionsDevice("EXT4-fs error (device loop3): ext4_lookup:1789: x", "loop3"));
  EXPECT_TRUE(MentionsDevice("EXT4-fs (loop3): mounted filesystem", "loop3"));
  EXPECT_TRUE(MentionsDevice("Aborting journal on device loop3-8.", "loop3"));
  EXPECT_TRUE(MentionsDevice("loop3: detected capacity change from 0 to 16384", "loop3"));
  EXPECT_FALSE(MentionsDevice("EXT4-fs (loop30): mounted filesystem", "loop3"));
  EXPECT_FALSE(MentionsDevice("EXT4-fs (loop1): mounted filesystem", "loop3"));
  EXPECT_EQ(LinesAbout({"EXT4-fs (loop1): a", "EXT4-fs (loop3): b", "EXT4-fs (loop13): c"}, "loop3"),
            std::vector<std::string>{"EXT4-fs (loop3): b"});
}

// The host's kernel (root, loop devices): the image's /dir names inode 13, whose links count is 0.
// Mounting says nothing; the walk's lstat of /dir/sub makes ext4_lookup report it.
TEST(HostMount, TheWalkSurfacesTheLookupError) {
  Status host = HostMountAvailable();
  ASSERT_TRUE(host.ok()) << host.message() << " (the tests run as root)";
  auto dir = TempDir::Create("torn-walk-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  const std::string bad = dir->path() + "/deleted-inode.img", good = dir->path() + "/clean.img";
  testing::MakeDeletedInodeImage(bad);
  testing::MakeCleanDirImage(good);
  auto v = CheckMount(bad, dir->path(), {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_FALSE(v->ok);
  EXPECT_NE(v->detail.find("EXT4-fs error"), std::string::npos) << v->detail;
  EXPECT_NE(v->detail.find("ext4_lookup"), std::string::npos) << v->detail;
  EXPECT_NE(v->detail.find("deleted inode referenced: 13"), std::string::npos) << v->detail;
  EXPECT_NE(v->output.find("walk: dir/sub: lstat: Structure needs cleaning"), std::string::npos) << v->output;
  auto ok = CheckMount(good, dir->path(), {});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_TRUE(ok->ok) << ok->detail << "\n" << ok->output;
  EXPECT_NE(ok->output.find("walked 5 entries, read 2 files (12 bytes)"), std::string::npos) << ok->output;
}

}  // namespace
}  // namespace torn::oracles
