#include "lab/cpio.h"

#include <gtest/gtest.h>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn::lab {
namespace {

TEST(Cpio, HeaderLayoutAndPadding) {
  CpioWriter w;
  w.AddFile("a", "xyz", 0600);
  std::string out = w.Finish();
  ASSERT_GE(out.size(), 110u);
  EXPECT_EQ(out.substr(0, 6), "070701");
  EXPECT_EQ(out.substr(6 + 8, 8), "00008180");  // S_IFREG | 0600
  EXPECT_EQ(out.substr(6 + 6 * 8, 8), "00000003");  // file size
  EXPECT_EQ(out.substr(6 + 11 * 8, 8), "00000002");  // name size with NUL
  // 110 + "a\0" = 112 (aligned), then "xyz" + 1 pad byte.
  EXPECT_EQ(out.substr(112, 3), "xyz");
  EXPECT_EQ(out[115], '\0');
  EXPECT_NE(out.find("TRAILER!!!"), std::string::npos);
  EXPECT_EQ(out.size() % 4, 0u);
}

TEST(Cpio, SameMembersSameBytes) {
  auto build = [] {
    CpioWriter w;
    w.AddFile("usr/sbin/x", "1", 0755);
    w.AddSymlink("bin/sh", "busybox");
    return w.Finish();
  };
  EXPECT_EQ(build(), build());
}

// GNU cpio (an independent reader) lists what we wrote, parents first, and extracts the content.
TEST(Cpio, GnuCpioReadsIt) {
  ASSERT_FALSE(FindProgram("cpio").empty()) << "cpio is installed by scripts/install-deps.sh";
  CpioWriter w;
  w.AddFile("/usr/sbin/tool", "#!/bin/sh\necho hi\n", 0755);
  w.AddDirectory("job");
  w.AddSymlink("bin/sh", "busybox");
  auto dir = TempDir::Create("torn-cpio-");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(WriteFileAtomic(dir->path() + "/a.cpio", w.Finish()).ok());
  SpawnOptions o;
  o.argv = {"cpio", "-i", "-d", "--quiet", "-F", dir->path() + "/a.cpio"};
  o.cwd = dir->path();
  auto r = RunChild(o);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->status.success()) << r->output;
  EXPECT_EQ(*ReadFileToString(dir->path() + "/usr/sbin/tool"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(::access((dir->path() + "/usr/sbin/tool").c_str(), X_OK), 0);
  char target[64] = {};
  ASSERT_GT(::readlink((dir->path() + "/bin/sh").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "busybox");
}

}  // namespace
}  // namespace torn::lab
