// Ext4Image::CopyOut on a real ext4 image made by mke2fs -d: the copy reads exactly as the file does,
// holes stay holes, and a missing path or a directory is kUnavailable naming the path.
#include "ext4/ext4_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::ext4 {
namespace {

TEST(Ext4Files, CopyOutIsExactAndSparse) {
  auto dir = TempDir::Create("torn-ext4-files-").value();
  std::string root = dir.path() + "/root", img = dir.path() + "/fs.img", out = dir.path() + "/out";
  std::filesystem::create_directories(root + "/sub");
  {
    // 4 MiB with data at 0 and at 3 MiB, a hole between.
    std::ofstream f(root + "/sub/disk.img", std::ios::binary);
    f << "head of the disk";
    f.seekp(3 << 20);
    f << "tail block";
    f.seekp((4 << 20) - 1);
    f.put('\0');
  }
  auto mk = RunChild({.argv = {"mke2fs", "-q", "-F", "-t", "ext4", "-d", root, img, "16M"}});
  ASSERT_TRUE(mk.ok() && mk->status.success()) << (mk.ok() ? mk->output : mk.status().message());

  auto fs = Ext4Image::Open(img);
  ASSERT_TRUE(fs.ok()) << fs.status().message();
  ASSERT_TRUE(fs->CopyOut("sub/disk.img", out).ok());
  EXPECT_EQ(testing::Md5OfFile(out), testing::Md5OfFile(root + "/sub/disk.img"));
  EXPECT_EQ(fs->Stat("sub/disk.img", true).md5, testing::Md5OfFile(out));
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the hole was written out";

  Status missing = fs->CopyOut("sub/nope", out);
  EXPECT_EQ(missing.code(), Code::kUnavailable);
  EXPECT_NE(missing.message().find("sub/nope"), std::string::npos) << missing.message();
  EXPECT_EQ(fs->CopyOut("sub", out).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace torn::ext4
