#include "base/temp_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace torn {
namespace {

bool Exists(const std::string& p) { return std::filesystem::exists(p); }

// A pid that certainly names no process: a child that has exited and been reaped.
pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return pid;
}

TEST(TempFile, NameCarriesTheCreatorsPidAndGoesAway) {
  std::string path;
  {
    auto f = TempFile::Create("torn-test-");
    ASSERT_TRUE(f.ok());
    path = f->path();
    EXPECT_NE(path.find("torn-test-p" + std::to_string(::getpid()) + "-"), std::string::npos) << path;
    EXPECT_TRUE(Exists(path));
  }
  EXPECT_FALSE(Exists(path));
}

// What a process killed with SIGKILL leaves behind is removed by the next sweep; what a live process
// owns, and names torn did not make, are left alone.
TEST(TempFile, SweepRemovesOnlyTheLeftoversOfDeadProcesses) {
  auto dir = TempDir::Create("torn-sweep-test-");
  ASSERT_TRUE(dir.ok());
  const std::string d = dir->path();
  pid_t dead = DeadPid();
  std::string stale_file = d + "/torn-state-p" + std::to_string(dead) + "-AbC123";
  std::string stale_dir = d + "/torn-mnt-p" + std::to_string(dead) + "-xYz789";
  std::string alive = d + "/torn-state-p" + std::to_string(::getppid()) + "-QwE456";
  std::string mine = d + "/torn-undo-p" + std::to_string(::getpid()) + "-RtY012";
  std::string other = d + "/torn-prefix-p12x-AbC123";
  std::string foreign = d + "/notes-p" + std::to_string(dead) + "-AbC123";
  for (const auto& p : {stale_file, alive, mine, other, foreign}) std::ofstream(p) << "x";
  std::filesystem::create_directory(stale_dir);
  std::ofstream(stale_dir + "/inside") << "x";
  EXPECT_EQ(SweepStaleTemporaries(d), 2u);
  EXPECT_FALSE(Exists(stale_file));
  EXPECT_FALSE(Exists(stale_dir));
  for (const auto& p : {alive, mine, other, foreign}) EXPECT_TRUE(Exists(p)) << p;
}

}  // namespace
}  // namespace torn
