// `torn record --host` on this machine: the refusals (mounted, not a block device, same device, no
// command) and what happens without device-mapper; with device-mapper, a real recording.
#include "recorder/record_host.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "base/loop_device.h"
#include "base/mount.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "recorder/dm.h"
#include "trace/log.h"

namespace torn::recorder {
namespace {

struct Devices {
  TempDir dir;
  LoopDevice a, b;
};

Devices MakeDevices() {
  Devices d;
  d.dir = std::move(TempDir::Create("torn-host-").value());
  for (const char* n : {"/a.img", "/b.img"}) {
    std::ofstream(d.dir.path() + n).close();
    EXPECT_EQ(::truncate((d.dir.path() + n).c_str(), 32 << 20), 0);
  }
  d.a = std::move(LoopDevice::Attach(d.dir.path() + "/a.img").value());
  d.b = std::move(LoopDevice::Attach(d.dir.path() + "/b.img").value());
  return d;
}

HostRecordOptions Options(const Devices& d) {
  return {.dev = d.a.path(), .log_dev = d.b.path(), .out = d.dir.path() + "/trace",
          .command = {"true"}};
}

TEST(RecordHost, RefusesAMountedDevice) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (loop devices)";
  Devices d = MakeDevices();
  auto mkfs = RunChild({.argv = {"mke2fs", "-q", "-t", "ext4", d.a.path()}});
  ASSERT_TRUE(mkfs.ok() && mkfs->status.success());
  std::string mnt = d.dir.path() + "/mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  auto m = Mount::Create(d.a.path(), mnt, "ext4");
  ASSERT_TRUE(m.ok()) << m.status().message();
  Status st = CheckHostRecordArgs(Options(d));
  EXPECT_EQ(st.code(), Code::kBadInput);
  EXPECT_NE(st.message().find("refusing a mounted device"), std::string::npos) << st.message();
  auto r = RecordOnHost(Options(d));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mounted"), std::string::npos);
}

TEST(RecordHost, RefusesBadArguments) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (loop devices)";
  Devices d = MakeDevices();
  HostRecordOptions o = Options(d);
  o.dev = d.dir.path() + "/a.img";
  EXPECT_NE(CheckHostRecordArgs(o).message().find("not a block device"), std::string::npos);
  o = Options(d);
  o.log_dev = o.dev;
  EXPECT_NE(CheckHostRecordArgs(o).message().find("same device"), std::string::npos);
  o = Options(d);
  o.command.clear();
  EXPECT_NE(CheckHostRecordArgs(o).message().find("no command"), std::string::npos);
  o = Options(d);
  o.dev = "/dev/nonexistent-torn";
  EXPECT_FALSE(CheckHostRecordArgs(o).ok());
  EXPECT_TRUE(CheckHostRecordArgs(Options(d)).ok());
}

// Without device-mapper (this project's development machines) the recording stops at step 2 with one
// clear line; with it, the recording is real and ends with the teardown mark.
TEST(RecordHost, DeviceMapperMissingOrARealRecording) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (loop devices)";
  Devices d = MakeDevices();
  HostRecordOptions o = Options(d);
  bool have_dm = ::access("/dev/mapper/control", F_OK) == 0 && CheckDeviceMapper().ok();
  o.command = {"sh", "-c", "mke2fs -q -t ext4 $DEV && torn mark mkfs"};
  auto r = RecordOnHost(o);
  if (!have_dm) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    EXPECT_NE(r.status().message().find("device-mapper is not available"), std::string::npos)
        << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);  // one line
    EXPECT_FALSE(std::ifstream(o.out + "/trace.json").good());
    return;
  }
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto log = trace::Log::Open(o.out);
  ASSERT_TRUE(log.ok()) << log.status().message();
  ASSERT_FALSE(log->marks().empty());
  EXPECT_EQ(log->marks().back().name, "dm-log-writes-end");
}

}  // namespace
}  // namespace torn::recorder
