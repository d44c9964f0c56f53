#include "lab/initramfs.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/subprocess.h"

namespace torn::lab {
namespace {

TEST(Initramfs, SharedLibrariesOfADynamicProgram) {
  std::string mke2fs = FindProgram("mke2fs");
  ASSERT_FALSE(mke2fs.empty());
  auto libs = SharedLibraries(mke2fs);
  ASSERT_TRUE(libs.ok()) << libs.status().message();
  auto has = [&](std::string_view part) {
    return std::any_of(libs->begin(), libs->end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("libext2fs.so"));
  EXPECT_TRUE(has("libc.so"));
  EXPECT_TRUE(has("ld-linux"));  // the program interpreter, without "=>"
  for (const auto& l : *libs) EXPECT_EQ(l.front(), '/') << l;
}

TEST(Initramfs, StaticBusyboxHasNoLibraries) {
  std::string bb = FindProgram("busybox");
  ASSERT_FALSE(bb.empty());
  auto libs = SharedLibraries(bb);
  ASSERT_TRUE(libs.ok());
  EXPECT_TRUE(libs->empty());
}

TEST(Initramfs, InitRunsTheJobAndReports) {
  std::string init = GuestInitScript();
  EXPECT_TRUE(init.starts_with("#!/bin/busybox sh\n"));
  EXPECT_NE(init.find("sh /job/run.sh"), std::string::npos);
  EXPECT_NE(init.find("TORN-EXIT"), std::string::npos);
  EXPECT_NE(init.find("poweroff -f"), std::string::npos);
  EXPECT_LT(init.find("sync"), init.find("poweroff -f"));
}

}  // namespace
}  // namespace torn::lab
