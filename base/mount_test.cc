#include "base/mount.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "base/block_device.h"
#include "base/loop_device.h"
#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn {
namespace {

TEST(Mount, MountsAndUnmountsALoopDevice) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (loop devices, mount)";
  auto dir = TempDir::Create("torn-mount-");
  ASSERT_TRUE(dir.ok());
  std::string img = dir->path() + "/fs.img", mnt = dir->path() + "/mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  ASSERT_EQ(::truncate(img.c_str(), 0), -1);  // does not exist yet
  { std::ofstream(img).close(); }
  ASSERT_EQ(::truncate(img.c_str(), 8 << 20), 0);
  auto mkfs = RunChild({.argv = {"mke2fs", "-q", "-t", "ext4", img}});
  ASSERT_TRUE(mkfs.ok() && mkfs->status.success());
  auto loop = LoopDevice::Attach(img);
  ASSERT_TRUE(loop.ok()) << loop.status().message();
  {
    auto m = Mount::Create(loop->path(), mnt, "ext4");
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto info = InspectPath(loop->path());
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->mounted_at, mnt);
  }
  auto info = InspectPath(loop->path());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mounted_at, "");  // the destructor unmounted it
}

TEST(Mount, ErrorNamesSourceAndTarget) {
  auto m = Mount::Create("/nonexistent-dev", "/nonexistent-dir", "ext4");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/nonexistent-dev"), std::string::npos);
}

}  // namespace
}  // namespace torn
