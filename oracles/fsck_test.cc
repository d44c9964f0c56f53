#include "oracles/fsck.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/temp_file.h"

namespace torn::oracles {
namespace {

using K = E2fsckExit::Kind;
constexpr std::chrono::milliseconds kLimit{30000};

ExitStatus Exited(int code) { return {.how = ExitStatus::How::kExited, .code = code}; }

// One test per exit code, like ninja's ParseExitStatus tests.
TEST(DecodeE2fsckExit, Code0IsClean) { EXPECT_EQ(DecodeE2fsckExit(Exited(0), kLimit).kind, K::kClean); }
TEST(DecodeE2fsckExit, Code1IsCorrected) {
  auto e = DecodeE2fsckExit(Exited(1), kLimit);
  EXPECT_EQ(e.kind, K::kCorrected);
  EXPECT_EQ(e.text, "exit 1: errors corrected");
}
TEST(DecodeE2fsckExit, Code2IsCorrectedWithReboot) {
  EXPECT_EQ(DecodeE2fsckExit(Exited(2), kLimit).kind, K::kCorrected);
  EXPECT_EQ(DecodeE2fsckExit(Exited(3), kLimit).kind, K::kCorrected);
}
TEST(DecodeE2fsckExit, Code4IsUncorrected) {
  auto e = DecodeE2fsckExit(Exited(4), kLimit);
  EXPECT_EQ(e.kind, K::kUncorrected);
  EXPECT_EQ(e.bits, 4);
}
TEST(DecodeE2fsckExit, Code8IsOperational) {
  EXPECT_EQ(DecodeE2fsckExit(Exited(8), kLimit).kind, K::kOperational);
}
TEST(DecodeE2fsckExit, Code12NamesBothBitsAndTheWorstWins) {
  auto e = DecodeE2fsckExit(Exited(12), kLimit);
  EXPECT_EQ(e.kind, K::kOperational);
  EXPECT_EQ(e.text, "exit 12: operational error, errors left uncorrected");
}
TEST(DecodeE2fsckExit, Code16IsUsage) { EXPECT_EQ(DecodeE2fsckExit(Exited(16), kLimit).kind, K::kUsage); }
TEST(DecodeE2fsckExit, Code32IsCancelled) {
  EXPECT_EQ(DecodeE2fsckExit(Exited(32), kLimit).kind, K::kCancelled);
}
TEST(DecodeE2fsckExit, Code128IsLibrary) {
  EXPECT_EQ(DecodeE2fsckExit(Exited(128), kLimit).kind, K::kLibrary);
}
TEST(DecodeE2fsckExit, UnknownBitsAreOperational) {
  EXPECT_EQ(DecodeE2fsckExit(Exited(64), kLimit).kind, K::kOperational);
}
TEST(DecodeE2fsckExit, SignalIsACrash) {
  auto e = DecodeE2fsckExit({.how = ExitStatus::How::kSignaled, .signal = 11}, kLimit);
  EXPECT_EQ(e.kind, K::kCrashed);
  EXPECT_NE(e.text.find("signal 11"), std::string::npos) << e.text;
}
TEST(DecodeE2fsckExit, TimeoutIsAHang) {
  auto e = DecodeE2fsckExit({.how = ExitStatus::How::kTimedOut}, kLimit);
  EXPECT_EQ(e.kind, K::kHung);
  EXPECT_EQ(e.text, "e2fsck hung (killed after 30 s)");
}

// Real images, real e2fsck.
struct Image {
  TempDir dir = std::move(TempDir::Create("torn-fsck-").value());
  std::string path = dir.path() + "/img";
};

void RunTool(std::vector<std::string> argv) {
  auto r = RunChild({.argv = std::move(argv), .timeout = std::chrono::seconds(60)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->status.success()) << r->output;
}

void MakeExt4(const std::string& path) {
  UniqueFd fd = std::move(OpenFile(path, O_RDWR | O_CREAT | O_TRUNC).value());
  ASSERT_EQ(::ftruncate(fd.get(), 32 << 20), 0);
  RunTool({"mkfs.ext4", "-q", "-F", path});
}

// Which states the checker leaves to the kernel's journal replay (kernel_replay.h): fast_commit and
// RECOVER both set in the super block, as mke2fs and debugfs set them.
TEST(FastCommitRecoveryPending, NeedsBothTheFeatureAndTheRecoverFlag) {
  Image plain, fc;
  MakeExt4(plain.path);
  MakeExt4(fc.path);
  RunTool({"tune2fs", "-O", "fast_commit", fc.path});
  EXPECT_FALSE(FastCommitRecoveryPending(plain.path));
  EXPECT_FALSE(FastCommitRecoveryPending(fc.path));
  RunTool({"debugfs", "-w", "-R", "feature needs_recovery", plain.path});
  RunTool({"debugfs", "-w", "-R", "feature needs_recovery", fc.path});
  EXPECT_FALSE(FastCommitRecoveryPending(plain.path));
  EXPECT_TRUE(FastCommitRecoveryPending(fc.path));
  EXPECT_FALSE(JournalReplayNeedless(fc.path));
  EXPECT_FALSE(FastCommitRecoveryPending(fc.path + ".missing"));
}

TEST(FsckOracle, CleanMkfsImagePasses) {
  Image img;
  MakeExt4(img.path);
  auto v = RunFsck(img.path, {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->ok) << v->detail << "\n" << v->output;
  EXPECT_NE(v->output.find("Pass 5"), std::string::npos) << v->output;
}

TEST(FsckOracle, ClearedRootInodeFailsWithBit4) {
  Image img;
  MakeExt4(img.path);
  RunTool({"debugfs", "-w", "-R", "clri <2>", img.path});
  auto v = RunFsck(img.path, {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_FALSE(v->ok);
  EXPECT_NE(v->detail.find("e2fsck -fn: exit"), std::string::npos) << v->detail;
  EXPECT_NE(v->detail.find("errors left uncorrected"), std::string::npos) << v->detail;
}

TEST(FsckOracle, OutputNamesTheProblemCodes) {
  // clri <2>: e2fsck's pass 1 finds the root inode is not a directory (0x01000B, PR_1_ROOT_NO_DIR)
  // and pass 3 that the root is missing (0x030001, PR_3_NO_ROOT_INODE), among others; the codes come
  // from e2fsck's own problem log, sorted.
  Image img;
  MakeExt4(img.path);
  RunTool({"debugfs", "-w", "-R", "clri <2>", img.path});
  auto v = RunFsck(img.path, {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  size_t at = v->output.find(kProblemsPrefix);
  ASSERT_NE(at, std::string::npos) << v->output;
  std::string line = v->output.substr(at, v->output.find('\n', at) - at);
  EXPECT_NE(line.find("0x030001"), std::string::npos) << line;
  Image fresh;
  MakeExt4(fresh.path);
  auto ok = RunFsck(fresh.path, {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->output.find(kProblemsPrefix), std::string::npos) << ok->output;
}

TEST(FsckOracle, ZeroedSuperBlockFails) {
  Image img;
  MakeExt4(img.path);
  {
    UniqueFd fd = std::move(OpenFile(img.path, O_RDWR).value());
    std::vector<std::byte> zeros(1024);
    ASSERT_TRUE(PwriteFull(fd.get(), zeros, 1024).ok());
  }
  auto v = RunFsck(img.path, {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_FALSE(v->ok);  // e2fsck falls back to a backup super block and finds the damage
  EXPECT_NE(v->detail.find("e2fsck"), std::string::npos) << v->detail;
}

TEST(FsckOracle, AHungE2fsckIsAVerdictNotAHang) {
  // No fake e2fsck: the real one on a large file system, given a time limit it cannot meet.
  Image img;
  {
    UniqueFd fd = std::move(OpenFile(img.path, O_RDWR | O_CREAT | O_TRUNC).value());
    ASSERT_EQ(::ftruncate(fd.get(), 4LL << 30), 0);
  }
  RunTool({"mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1", img.path});
  FsckOptions o;
  o.timeout = std::chrono::milliseconds(2);
  o.journal_replay = false;
  auto start = std::chrono::steady_clock::now();
  auto v = RunFsck(img.path, o);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_FALSE(v->ok);
  EXPECT_NE(v->detail.find("e2fsck hung"), std::string::npos) << v->detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(FsckOracle, MissingProgramIsAnError) {
  Image img;
  MakeExt4(img.path);
  FsckOptions o;
  o.e2fsck = "/nonexistent/e2fsck";
  auto v = RunFsck(img.path, o);
  EXPECT_FALSE(v.ok());
}

}  // namespace
}  // namespace torn::oracles
