// The gate's outer oracle for xfs and btrfs (gate/outer_fs.h) on real images, with the real tools:
// mkfs.xfs / mkfs.btrfs on this machine, the image mounted on a loop device to write the backing file,
// then JudgeOuterFs (its own loop device, the kernel's log recovery, xfs_repair -n, btrfs check). A
// clean image passes and gives back the backing file's bytes; an image with its super block zeroed
// fails the mount; an xfs image with a metadata block zeroed (AG 1's super block, which mount does not
// read) mounts and fails xfs_repair; a missing backing file is a failing data verdict. Needs root and
// /dev/loop-control (skipped without them). Also: names, default sizes, nobarrier options.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "base/fd.h"
#include "base/file_io.h"
#include "base/loop_device.h"
#include "base/mount.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "gate/outer_fs.h"

namespace torn::gate {
namespace {

using oracles::Oracle;

TEST(OuterFs, NamesSizesAndNoBarrier) {
  EXPECT_EQ(ParseOuterFs("xfs").value(), OuterFs::kXfs);
  EXPECT_EQ(ParseOuterFs("btrfs").value(), OuterFs::kBtrfs);
  EXPECT_EQ(ParseOuterFs("ext4").value(), OuterFs::kExt4);
  EXPECT_EQ(ParseOuterFs("zfs").status().code(), Code::kBadInput);
  EXPECT_EQ(OuterFsName(OuterFs::kBtrfs), "btrfs");
  EXPECT_EQ(DefaultDeviceBytes(OuterFs::kExt4), 96ull << 20);  // today's default, unchanged
  EXPECT_GT(DefaultDeviceBytes(OuterFs::kXfs), 300ull * 1000 * 1000);
  EXPECT_EQ(NoBarrierMountOptions(OuterFs::kExt4).value(), "barrier=0");
  EXPECT_EQ(NoBarrierMountOptions(OuterFs::kBtrfs).value(), "nobarrier");
  EXPECT_EQ(NoBarrierMountOptions(OuterFs::kXfs).status().code(), Code::kBadInput);
}

std::vector<std::byte> Pattern(size_t n) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte((i * 7 + i / 4096) & 0xff);
  return v;
}

constexpr size_t kBackingBytes = 3 << 20;

class OuterFsFixture : public ::testing::Test {
 protected:
  void Init(OuterFs fs) {
    fs_ = fs;
    dir_ = TempDir::Create("torn-outer-fs-test-").value();
    image_ = dir_.path() + "/outer.img";
    out_ = dir_.path() + "/inner.out";
  }

  // mkfs on a fresh image; with `backing`, a file inner.img of kBackingBytes written through a mount.
  void Make(bool backing) {
    ASSERT_TRUE(::truncate(image_.c_str(), 0) == 0 || errno == ENOENT);
    UniqueFd f = OpenFile(image_, O_RDWR | O_CREAT | O_TRUNC).value();
    ASSERT_EQ(::ftruncate(f.get(), off_t(DefaultDeviceBytes(fs_))), 0);
    std::vector<std::string> mkfs = fs_ == OuterFs::kXfs ? std::vector<std::string>{"mkfs.xfs", "-q", "-f", image_}
                                                         : std::vector<std::string>{"mkfs.btrfs", "-q", "-f", image_};
    auto run = RunChild({.argv = mkfs, .timeout = std::chrono::seconds(60)});
    ASSERT_TRUE(run.ok() && run->status.success()) << (run.ok() ? run->output : run.status().message());
    auto loop = LoopDevice::Attach(image_);
    ASSERT_TRUE(loop.ok()) << loop.status().message();
    auto mnt = TempDir::Create("torn-outer-fs-mnt-").value();
    auto m = Mount::Create(loop->path(), mnt.path(), std::string(OuterFsName(fs_)));
    ASSERT_TRUE(m.ok()) << m.status().message();
    if (backing) {
      UniqueFd b = OpenFile(mnt.path() + "/inner.img", O_WRONLY | O_CREAT | O_TRUNC).value();
      ASSERT_TRUE(PwriteFull(b.get(), Pattern(kBackingBytes), 0).ok());
    } else {
      UniqueFd b = OpenFile(mnt.path() + "/other", O_WRONLY | O_CREAT | O_TRUNC).value();
    }
    ASSERT_TRUE(m->Unmount().ok());
    ASSERT_TRUE(loop->Detach().ok());
  }

  void Zero(uint64_t offset, size_t bytes) {
    UniqueFd f = OpenFile(image_, O_WRONLY).value();
    ASSERT_TRUE(PwriteFull(f.get(), std::vector<std::byte>(bytes), offset).ok());
  }

  OuterVerdicts Judge() {
    auto v = JudgeOuterFs(fs_, image_, "inner.img", out_, {.scratch_dir = dir_.path()});
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : OuterVerdicts{};
  }

  static bool Has(const OuterVerdicts& v, Oracle o) {
    return std::any_of(v.failed.begin(), v.failed.end(), [&](const oracles::Verdict& x) { return x.oracle == o; });
  }

  OuterFs fs_ = OuterFs::kXfs;
  TempDir dir_;
  std::string image_, out_;
};

// As the project's other loop-device tests: without root a failure, never a skip (the README's test
// command runs as root; a skipped test would count as passing).
void RequireMount() {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (loop devices, mount)";
  ASSERT_EQ(::access("/dev/loop-control", R_OK | W_OK), 0) << "needs /dev/loop-control";
}

class OuterFsImage : public OuterFsFixture, public ::testing::WithParamInterface<OuterFs> {
 protected:
  void SetUp() override {
    RequireMount();
    if (HasFatalFailure()) return;
    Init(GetParam());
  }
};

class OuterFsXfs : public OuterFsFixture {
 protected:
  void SetUp() override {
    RequireMount();
    if (HasFatalFailure()) return;
    Init(OuterFs::kXfs);
  }
};

TEST_P(OuterFsImage, CleanImagePassesAndGivesTheBackingFile) {
  Make(true);
  OuterVerdicts v = Judge();
  for (const auto& f : v.failed) ADD_FAILURE() << f.detail << "\n" << f.output;
  ASSERT_TRUE(v.extracted);
  auto bytes = ReadFileToString(out_);
  ASSERT_TRUE(bytes.ok());
  std::vector<std::byte> want = Pattern(kBackingBytes);
  ASSERT_EQ(bytes->size(), want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), reinterpret_cast<const std::byte*>(bytes->data())));
}

TEST_P(OuterFsImage, ZeroedSuperBlockFails) {
  Make(true);
  // xfs: the primary super block is sector 0; btrfs: its super block is at 64 KiB.
  Zero(fs_ == OuterFs::kXfs ? 0 : 64 << 10, 4096);
  OuterVerdicts v = Judge();
  EXPECT_FALSE(v.extracted);
  ASSERT_FALSE(v.failed.empty());
  EXPECT_TRUE(Has(v, Oracle::kMount));
  for (const auto& f : v.failed) {
    if (f.oracle == Oracle::kMount) {
      EXPECT_NE(f.detail.find("kernel mount failed"), std::string::npos) << f.detail;
    }
  }
  if (fs_ == OuterFs::kBtrfs) {
    EXPECT_TRUE(Has(v, Oracle::kFsck));  // btrfs check reads the image first
  }
}

TEST_P(OuterFsImage, MissingBackingFileIsADataViolation) {
  Make(false);
  OuterVerdicts v = Judge();
  EXPECT_FALSE(v.extracted);
  ASSERT_EQ(v.failed.size(), 1u);
  EXPECT_EQ(v.failed[0].oracle, Oracle::kData);
  EXPECT_NE(v.failed[0].detail.find("inner.img cannot be read"), std::string::npos) << v.failed[0].detail;
  // The same words for every state: the mount point is $MNT, not this run's temporary directory.
  EXPECT_NE(v.failed[0].detail.find("$MNT/inner.img"), std::string::npos) << v.failed[0].detail;
  EXPECT_EQ(v.failed[0].detail.find("torn-gate-mnt-"), std::string::npos) << v.failed[0].detail;
}

INSTANTIATE_TEST_SUITE_P(Fs, OuterFsImage, ::testing::Values(OuterFs::kXfs, OuterFs::kBtrfs),
                         [](const auto& info) { return std::string(OuterFsName(info.param)); });

// A metadata block the mount does not read (a secondary super block): xfs_repair must find it.
TEST_F(OuterFsXfs, ZeroedSecondarySuperBlockFailsXfsRepair) {
  Make(true);
  auto db = RunChild({.argv = {"xfs_db", "-r", "-c", "sb 0", "-c", "p agblocks", "-c", "p blocksize", image_}});
  ASSERT_TRUE(db.ok() && db->status.success()) << (db.ok() ? db->output : db.status().message());
  unsigned long long agblocks = 0, blocksize = 0;
  ASSERT_EQ(std::sscanf(db->output.c_str(), "agblocks = %llu blocksize = %llu", &agblocks, &blocksize), 2)
      << db->output;
  // AG 1's super block (its first sector; its AGF and AGI follow): the kernel reads only the primary
  // one, xfs_repair every one. (Zeroing AGF and AGI too makes the mount itself fail on 6.x: the per-AG
  // reservations read them.)
  Zero(agblocks * blocksize, 512);
  OuterVerdicts v = Judge();
  EXPECT_TRUE(v.extracted);  // the kernel mounts it and copies the file out
  ASSERT_EQ(v.failed.size(), 1u);
  EXPECT_EQ(v.failed[0].oracle, Oracle::kFsck);
  EXPECT_NE(v.failed[0].detail.find("xfs_repair -n -f: exit code 1"), std::string::npos) << v.failed[0].detail;
  EXPECT_EQ(v.failed[0].detail.find("host filesystem geometry"), std::string::npos) << v.failed[0].detail;
}

}  // namespace
}  // namespace torn::gate
