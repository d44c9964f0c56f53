// A torn killed by a scheduler leaves no child running (base/spawn.h). Slurm and Kubernetes end a job
// with SIGTERM and, after a grace period, SIGKILL; on SIGKILL torn cannot clean up, so its children
// must be killed by the kernel (PR_SET_PDEATHSIG).
//
// The child here is an `e2fsck` that never ends: a script first on PATH that execs `sleep 600` (the
// real e2fsck ends in milliseconds by itself, which would prove nothing). Without the death signal it
// outlives torn by ten minutes; the test gives it two seconds. The lab VM's qemu is in
// kill_vm_test.cc.
#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_file.h"
#include "tests/kill_util.h"

namespace torn::testing {
namespace {

// torn check with every e2fsck hanging; returns the running torn once it has a child.
struct HangingCheck {
  std::optional<TempDir> dir;
  std::optional<Subprocess> torn;
  std::vector<Proc> children;

  void Start() {
    auto d = TempDir::Create("torn-kill-");
    ASSERT_TRUE(d.ok());
    dir.emplace(std::move(d).value());
    std::string shim = dir->path() + "/e2fsck";
    {
      std::ofstream f(shim);
      f << "#!/bin/sh\nexec sleep 600\n";
    }
    ASSERT_EQ(::chmod(shim.c_str(), 0755), 0);
    SpawnOptions o;
    o.argv = {TORN_BINARY, "check", std::string(TORN_SOURCE_DIR) + "/corpus/ext4-default", "--no-classes",
              "--jobs", "2", "--db", dir->path() + "/r.db", "--scratch", dir->path()};
    o.env = {"PATH=" + dir->path() + ":" + std::getenv("PATH")};
    auto p = Subprocess::Start(o);
    ASSERT_TRUE(p.ok()) << p.status().message();
    torn.emplace(std::move(p).value());
    children = WaitForChild(torn->pid(), "", std::chrono::seconds(60));
    ASSERT_FALSE(children.empty()) << "torn started no child within 60 s";
  }
};

TEST(Kill, SigkillOfTornKillsItsChildren) {
  HangingCheck c;
  ASSERT_NO_FATAL_FAILURE(c.Start());
  ASSERT_EQ(::kill(c.torn->pid(), SIGKILL), 0);
  std::vector<Proc> alive = Survivors(c.children, std::chrono::seconds(2));
  EXPECT_TRUE(alive.empty()) << "alive 2 s after torn's SIGKILL:" << Describe(alive);
  for (const Proc& p : alive) ::kill(p.pid, SIGKILL);
}

// SIGTERM (a time limit's first signal): torn stops, kills its children itself and exits 128+15.
TEST(Kill, SigtermOfTornKillsItsChildrenAndExits143) {
  HangingCheck c;
  ASSERT_NO_FATAL_FAILURE(c.Start());
  ASSERT_EQ(::kill(c.torn->pid(), SIGTERM), 0);
  RunResult r = c.torn->Wait();
  EXPECT_EQ(r.status.how, ExitStatus::How::kExited) << r.status.describe();
  EXPECT_EQ(r.status.code, 128 + SIGTERM) << r.output;
  std::vector<Proc> alive = Survivors(c.children, std::chrono::seconds(2));
  EXPECT_TRUE(alive.empty()) << "alive 2 s after torn's SIGTERM:" << Describe(alive);
  for (const Proc& p : alive) ::kill(p.pid, SIGKILL);
}

}  // namespace
}  // namespace torn::testing
