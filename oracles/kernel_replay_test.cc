// KernelReplayVerdicts on synthetic verdicts: what the fsck and data oracles say of a state judged
// after the kernel's journal replay, from the mount's outcome and the hook's verdicts.
#include "oracles/kernel_replay.h"

#include <gtest/gtest.h>

namespace torn::oracles {
namespace {

Verdict Mount(bool ok, std::string detail) {
  Verdict v;
  v.oracle = Oracle::kMount;
  v.ok = ok;
  v.detail = std::move(detail);
  v.output = "kernel: EXT4-fs (loop0): bad geometry\n";
  return v;
}

TEST(KernelReplayVerdictsSynthetic, TheHooksVerdictsWhenTheKernelMounted) {
  Verdict fsck;
  fsck.oracle = Oracle::kFsck;
  fsck.output = "e2fsck -fn: clean";
  auto out = KernelReplayVerdicts(Mount(true, ""), {fsck}, {.fsck = true});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].ok);
  EXPECT_EQ(out[0].output, "e2fsck -fn: clean");
}

TEST(KernelReplayVerdictsSynthetic, AFailedMountFailsEachAskedOracleWithItsReason) {
  auto out = KernelReplayVerdicts(Mount(false, "kernel mount failed: Structure needs cleaning"), {},
                                  {.fsck = true, .data = true});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].oracle, Oracle::kFsck);
  EXPECT_EQ(out[1].oracle, Oracle::kData);
  for (const Verdict& v : out) {
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.detail, "the kernel's journal replay failed: kernel mount failed: Structure needs cleaning");
    EXPECT_NE(v.output.find("bad geometry"), std::string::npos);
  }
  EXPECT_EQ(KernelReplayVerdicts(Mount(false, "x"), {}, {.data = true}).size(), 1u);
}

}  // namespace
}  // namespace torn::oracles
