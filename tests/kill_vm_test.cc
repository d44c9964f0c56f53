// A torn killed with SIGKILL while the mount oracle's lab VM boots leaves no qemu running
// (base/spawn.h; kill_test.cc does e2fsck). A boot under TCG takes seconds, so a qemu that survived
// torn would still be there when the test looks, two seconds later.
#include <gtest/gtest.h>

#include "base/temp_file.h"
#include "tests/kill_util.h"

namespace torn::testing {
namespace {

TEST(KillVm, SigkillOfTornKillsItsQemu) {
  auto dir = TempDir::Create("torn-kill-vm-");
  ASSERT_TRUE(dir.ok());
  SpawnOptions o;
  o.argv = {TORN_BINARY, "check", std::string(TORN_SOURCE_DIR) + "/corpus/ext4-default", "--oracle", "fsck,mount",
            "--budget", "4", "--db", dir->path() + "/r.db", "--scratch", dir->path()};
  auto torn = Subprocess::Start(o);
  ASSERT_TRUE(torn.ok()) << torn.status().message();
  std::vector<Proc> children = WaitForChild(torn->pid(), "qemu", std::chrono::seconds(300));
  ASSERT_FALSE(children.empty()) << "torn started no qemu within 300 s";
  ASSERT_EQ(::kill(torn->pid(), SIGKILL), 0);
  std::vector<Proc> alive = Survivors(children, std::chrono::seconds(2));
  EXPECT_TRUE(alive.empty()) << "alive 2 s after torn's SIGKILL:" << Describe(alive);
  for (const Proc& p : alive) ::kill(p.pid, SIGKILL);
}

}  // namespace
}  // namespace torn::testing
