#include "lab/guest_outcome.h"

#include <gtest/gtest.h>

namespace torn::lab {
namespace {

ExitStatus Exited(int code) { return {ExitStatus::How::kExited, code, 0}; }

TEST(GuestOutcome, ExitLine) {
  EXPECT_EQ(ParseExitLine("TORN-EXIT 0\n"), 0);
  EXPECT_EQ(ParseExitLine("x\nTORN-EXIT 3\r\n"), 3);
  EXPECT_EQ(ParseExitLine("TORN-EXIT 1\nTORN-EXIT 2\n"), 2);
  EXPECT_FALSE(ParseExitLine("TORN-EXIT x\n"));
  EXPECT_FALSE(ParseExitLine("say TORN-EXIT 0\n"));
  EXPECT_FALSE(ParseExitLine(""));
}

TEST(GuestOutcome, Classify) {
  EXPECT_TRUE(ClassifyGuest(Exited(0), "boot\n", "TORN-EXIT 0\n").ok());
  auto failed = ClassifyGuest(Exited(0), "", "TORN-EXIT 4\n");
  EXPECT_EQ(failed.outcome, Outcome::kExited);
  EXPECT_EQ(failed.job_status, 4);
  EXPECT_EQ(failed.describe(), "the job exited with status 4");
  EXPECT_EQ(ClassifyGuest(Exited(0), "[ 1.0] Kernel panic - not syncing: x\n", "").outcome, Outcome::kPanicked);
  EXPECT_EQ(ClassifyGuest({ExitStatus::How::kTimedOut}, "", "TORN-EXIT 0\n").outcome, Outcome::kTimedOut);
  EXPECT_EQ(ClassifyGuest({ExitStatus::How::kInterrupted}, "", "").outcome, Outcome::kInterrupted);
  EXPECT_EQ(ClassifyGuest(Exited(1), "qemu: error\n", "").outcome, Outcome::kNoStatus);
}

TEST(GuestOutcome, Tail) {
  EXPECT_EQ(ConsoleTail("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(ConsoleTail("a\r\nb", 5), "a\nb");
  EXPECT_EQ(ConsoleTail("", 3), "");
}

}  // namespace
}  // namespace torn::lab
