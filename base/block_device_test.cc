// Against the real kernel: a loop device torn attaches, a mount of it, and the refusals that protect
// devices torn does not own.
#include "base/block_device.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/loop_device.h"
#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn {
namespace {

TEST(BlockDevice, RegularFileIsWritable) {
  auto dir = TempDir::Create("torn-bd-");
  ASSERT_TRUE(dir.ok());
  auto fd = OpenForWriting(dir->path() + "/img", false);
  EXPECT_TRUE(fd.ok()) << fd.status().message();
}

TEST(BlockDevice, RefusesABlockDeviceThatIsNotALoopDevice) {
  // /dev/null is a character device; find a real non-loop block device from /sys/block.
  std::string dev;
  for (const char* candidate : {"/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda"})
    if (InspectPath(candidate).ok() && InspectPath(candidate)->is_block) dev = candidate;
  ASSERT_FALSE(dev.empty()) << "this machine has no non-loop block device to test the refusal on";
  auto fd = OpenForWriting(dev, false);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("not a loop device"), std::string::npos)
      << fd.status().message();
}

TEST(BlockDevice, LoopDeviceIsAttachedWritableAndDetached) {
  auto img = TempFile::Create("torn-loop-");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(::ftruncate(img->fd(), 8 << 20), 0);
  std::string path;
  {
    auto loop = LoopDevice::Attach(img->path());
    ASSERT_TRUE(loop.ok()) << loop.status().message();
    path = loop->path();
    auto info = InspectPath(path);
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->is_loop);
    auto fd = OpenForWriting(path, false);
    EXPECT_TRUE(fd.ok()) << fd.status().message();
  }
  // Detached: the sysfs backing_file entry is gone.
  std::string name = path.substr(path.rfind('/') + 1);
  EXPECT_NE(::access(("/sys/block/" + name + "/loop/backing_file").c_str(), F_OK), 0);
}

TEST(BlockDevice, RefusesAMountedLoopDevice) {
  auto img = TempFile::Create("torn-loop-");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(::ftruncate(img->fd(), 16 << 20), 0);
  auto mkfs = RunChild({.argv = {"mkfs.ext4", "-q", "-F", img->path()}});
  ASSERT_TRUE(mkfs.ok() && mkfs->status.success()) << (mkfs.ok() ? mkfs->output : "");
  auto loop = LoopDevice::Attach(img->path());
  ASSERT_TRUE(loop.ok()) << loop.status().message();
  auto mnt = TempDir::Create("torn-mnt-");
  ASSERT_TRUE(mnt.ok());
  ASSERT_EQ(::mount(loop->path().c_str(), mnt->path().c_str(), "ext4", 0, nullptr), 0);
  auto fd = OpenForWriting(loop->path(), false);
  ::umount2(mnt->path().c_str(), 0);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("mounted"), std::string::npos) << fd.status().message();
}

}  // namespace
}  // namespace torn
