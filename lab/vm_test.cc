// Boots the real Debian kernel under qemu and runs small jobs: the lab's contract (lab/vm.h) end to end.
#include "lab/vm.h"

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "base/temp_file.h"

namespace torn::lab {
namespace {

struct Lab {
  Kernel kernel;
  Initramfs initramfs;
};

const Lab& TheLab() {
  static Lab lab = [] {
    auto k = DebianKernel(nullptr);
    if (!k.ok()) throw std::runtime_error(k.status().message());
    auto i = BuildInitramfs(*k, {.programs = {"mke2fs", "e2fsck"}, .modules = {"virtio_pci", "virtio_blk", "ext4"}});
    if (!i.ok()) throw std::runtime_error(i.status().message());
    return Lab{*k, *i};
  }();
  return lab;
}

GuestSpec Spec(std::string script) {
  GuestSpec s;
  s.kernel = TheLab().kernel;
  s.initramfs = TheLab().initramfs;
  s.script = std::move(script);
  s.timeout = std::chrono::seconds(180);
  return s;
}

TEST(LabVm, RunsAJobOnADiskAndReports) {
  auto dir = TempDir::Create("torn-vm-");
  ASSERT_TRUE(dir.ok());
  std::string disk = dir->path() + "/disk.img";
  ASSERT_TRUE(WriteFileAtomic(disk, std::string(16 << 20, '\0')).ok());
  GuestSpec s = Spec(
      "set -e\n"
      "/usr/sbin/mke2fs -q -t ext4 /dev/vda\n"
      "mount -t ext4 /dev/vda /mnt && cp /job/hello /mnt/hello && umount /mnt\n"
      "echo \"size=$(blockdev --getss /dev/vda)\" > $TORN_REPORT\n");
  s.files = {{"hello", "hello from the host\n"}};
  s.disks = {{disk, 4096}};
  std::string streamed;
  s.on_console = [&](std::string_view c) { streamed.append(c); };
  auto r = RunGuest(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->outcome.ok()) << r->outcome.describe() << "\n" << ConsoleTail(r->console, 40);
  EXPECT_NE(r->report.find("size=4096"), std::string::npos) << r->report;
  EXPECT_GT(r->boot_seconds, 0);
  EXPECT_NE(streamed.find("@@torn: job start"), std::string::npos);
  // The disk holds what the guest wrote: e2fsck on the host checks it, debugfs reads the file back.
  SpawnOptions fsck;
  fsck.argv = {"e2fsck", "-fn", disk};
  auto f = RunChild(fsck);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->status.success()) << f->output;
  SpawnOptions cat;
  cat.argv = {"debugfs", "-R", "cat /hello", disk};
  auto c = RunChild(cat);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->output.find("hello from the host"), std::string::npos) << c->output;
}

TEST(LabVm, FailingJobAndPanicAndTimeout) {
  auto failed = RunGuest(Spec("echo about to fail; exit 7\n"));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->outcome.outcome, Outcome::kExited);
  EXPECT_EQ(failed->outcome.job_status, 7);
  EXPECT_NE(failed->console.find("about to fail"), std::string::npos);

  auto panic = RunGuest(Spec("echo c > /proc/sysrq-trigger\n"));
  ASSERT_TRUE(panic.ok());
  EXPECT_EQ(panic->outcome.outcome, Outcome::kPanicked) << ConsoleTail(panic->console);

  GuestSpec slow = Spec("sleep 1000\n");
  slow.timeout = std::chrono::seconds(25);
  auto timed = RunGuest(slow);
  ASSERT_TRUE(timed.ok());
  EXPECT_EQ(timed->outcome.outcome, Outcome::kTimedOut);
}

}  // namespace
}  // namespace torn::lab
