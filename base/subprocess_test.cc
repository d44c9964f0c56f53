#include "base/subprocess.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "base/interrupt.h"

namespace torn {
namespace {

TEST(DecodeWaitStatus, ExitCodes) {
  for (int code : {0, 1, 4, 8, 255}) {
    ExitStatus e = DecodeWaitStatus(code << 8);  // W_EXITCODE(code, 0)
    EXPECT_EQ(e.how, ExitStatus::How::kExited);
    EXPECT_EQ(e.code, code);
    EXPECT_EQ(e.success(), code == 0);
  }
}

TEST(DecodeWaitStatus, Signals) {
  ExitStatus e = DecodeWaitStatus(SIGSEGV);  // W_EXITCODE(0, SIGSEGV)
  EXPECT_EQ(e.how, ExitStatus::How::kSignaled);
  EXPECT_EQ(e.signal, SIGSEGV);
  EXPECT_FALSE(e.success());
  EXPECT_NE(e.describe().find("signal 11"), std::string::npos);
}

TEST(Run, CapturesOutputAndExitCode) {
  auto r = RunChild({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status.how, ExitStatus::How::kExited);
  EXPECT_EQ(r->status.code, 3);
  EXPECT_NE(r->output.find("out"), std::string::npos);
  EXPECT_NE(r->output.find("err"), std::string::npos);
}

TEST(Run, StdinIsDevNull) {
  auto r = RunChild({.argv = {"cat"}, .timeout = std::chrono::seconds(5)});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->status.success());  // cat sees EOF at once instead of waiting for a terminal
}

TEST(Run, RealSignalIsReported) {
  auto r = RunChild({.argv = {"sh", "-c", "kill -SEGV $$"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.how, ExitStatus::How::kSignaled);
  EXPECT_EQ(r->status.signal, SIGSEGV);
}

// Termination signals sent to a child from outside (Slurm at a time limit signals every process of
// the job) are blocked: e2fsck would catch them and exit 8 or 32, a status that reads like a verdict.
TEST(Run, ChildrenDoNotActOnTerminationSignalsFromOutside) {
  auto r = RunChild({.argv = {"sh", "-c", "kill -TERM $$; kill -INT $$; kill -HUP $$; exit 3"},
                     .timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.how, ExitStatus::How::kExited) << r->status.describe();
  EXPECT_EQ(r->status.code, 3);
}

// A child that unblocks them (a shell does when it forks) and dies of one was stopped from outside:
// an interruption, not a crash of the child to be judged.
TEST(Run, DeathByTerminationSignalIsAnInterruptionNotACrash) {
  for (const char* sig : {"TERM", "INT", "HUP"}) {
    std::string script = std::string("use POSIX; sigprocmask(SIG_UNBLOCK, POSIX::SigSet->new(SIG") +
                         sig + ")); kill '" + sig + "', $$; sleep 5; exit 3";
    auto r = RunChild({.argv = {"perl", "-e", script}, .timeout = std::chrono::seconds(10)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status.how, ExitStatus::How::kInterrupted) << sig << ": " << r->status.describe();
  }
}

// Whatever a child's status, once torn itself was interrupted it is an interruption: the child may
// have been cancelled by the same signal (e2fsck -E journal_only exits 8, "operational error").
// In a death test, so that the interrupt flag stays in a process of its own.
TEST(RunDeathTest, AnExitAfterTornWasInterruptedIsAnInterruption) {
  EXPECT_EXIT(
      {
        InstallInterruptHandlers();
        auto r = RunChild({.argv = {"sh", "-c", "kill -TERM $PPID; exit 8"},
                           .timeout = std::chrono::seconds(10)});
        bool ok = r.ok() && r->status.how == ExitStatus::How::kInterrupted && Interrupted();
        std::_Exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Run, TimeoutKillsTheWholeProcessGroup) {
  // The child starts a grandchild that would outlive it; both must be gone after the time limit.
  std::string marker = "/tmp/torn-subprocess-test-" + std::to_string(::getpid());
  auto r = RunChild({.argv = {"sh", "-c", "sleep 30 & echo $! > " + marker + "; wait"},
                .timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.how, ExitStatus::How::kTimedOut);
  EXPECT_LT(r->seconds, 5.0);
  FILE* f = std::fopen(marker.c_str(), "r");
  ASSERT_NE(f, nullptr);
  int pid = 0;
  ASSERT_EQ(std::fscanf(f, "%d", &pid), 1);
  std::fclose(f);
  ::unlink(marker.c_str());
  usleep(200000);
  // Gone, or a zombie waiting for init to reap it: either way no longer running.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_s, comm, state;
  if (stat >> pid_s >> comm >> state) EXPECT_EQ(state, "Z") << "grandchild " << pid << " survived";
}

TEST(Run, MissingProgramIsUnavailable) {
  auto r = RunChild({.argv = {"torn-no-such-program-xyz"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST(QuoteArgv, QuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(QuoteArgv({"e2fsck", "-fn", "/tmp/a b", "it's"}), "e2fsck -fn '/tmp/a b' 'it'\\''s'");
}

}  // namespace
}  // namespace torn
