// Signatures on synthetic verdicts (the texts the oracles write, typed here); signatures of real
// e2fsck runs on real crash states are tested in tests/triage_test.cc.
#include "triage/signature.h"

#include <gtest/gtest.h>

namespace torn::triage {
namespace {

using oracles::Oracle;
using oracles::Verdict;

Verdict Failed(Oracle o, std::string detail, std::string output) {
  return Verdict{.oracle = o, .ok = false, .detail = std::move(detail), .output = std::move(output)};
}

TEST(SignatureSynthetic, NumbersAreStrippedButWordsKeepTheirDigits) {
  EXPECT_EQ(StripNumbers("inode 12 block 0x1f3 in ext4_lookup and jbd2"), "inode N block N in ext4_lookup and jbd2");
  EXPECT_EQ(StripNumbers("blocks 4385,4386,4387 and 1,2,3,... (12 blocks)"), "blocks N and N");
  EXPECT_EQ(StripNumbers("entries 98-101"), "entries N");
  EXPECT_EQ(StripNumbers("EXT4-fs (loop0): mounted"), "EXT4-fs (DEV): mounted");
}

TEST(SignatureSynthetic, PassingVerdictHasNone) { EXPECT_EQ(SignatureOf(Verdict{.oracle = Oracle::kFsck}), ""); }

const char* kFsckOutput =
    "$ e2fsck -E journal_only -y -z /dev/shm/u /dev/shm/img\n"
    "[exit 0: clean]\n"
    "$ e2fsck -fn /dev/shm/img\n"
    "Pass 1: Checking inodes, blocks, and sizes\n"
    "Entry 'p' in / (2) references inode 12 found in group 0's unused inodes area.\n"
    "[exit 4: errors left uncorrected]\n"
    "[problems: 0x020003,0x020028,0x020047]\n";

TEST(SignatureSynthetic, EarliestPassProblems) {
  EXPECT_EQ(EarliestPassProblems("0x020003,0x020047,0x040003,0x050003,0x05000e"), "0x020003,0x020047");
  EXPECT_EQ(EarliestPassProblems("0x030003,0x030005"), "0x030003,0x030005");
  // Pass 5 alone: the kinds of summary that differ, whichever groups and ranges.
  EXPECT_EQ(EarliestPassProblems("0x050003,0x050006,0x05000e,0x05000f,0x050014,0x05001b"),
            "pass 5 (block bitmap, free counts)");
  EXPECT_EQ(EarliestPassProblems("0x050003,0x050006,0x05000e,0x05000f,0x050015,0x05001b"),
            "pass 5 (block bitmap, free counts)");
  EXPECT_EQ(EarliestPassProblems("0x050007,0x05000a,0x05000b,0x050016,0x05001a"), "pass 5 (free counts, inode bitmap)");
  EXPECT_EQ(EarliestPassProblems("0x000018,0x00002b"), "0x000018,0x00002b");
  EXPECT_EQ(EarliestPassProblems("garbage"), "garbage");
}

TEST(SignatureSynthetic, FsckIsTheProblemCodesOfTheFullCheck) {
  Verdict v = Failed(Oracle::kFsck, "e2fsck -fn: exit 4: errors left uncorrected (Entry 'p' …)", kFsckOutput);
  EXPECT_EQ(SignatureOf(v), "e2fsck -fn: 0x020003,0x020028,0x020047");
  // The same problems on another inode: the same signature.
  std::string other = kFsckOutput;
  other.replace(other.find("inode 12"), 8, "inode 17");
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "x", other)), SignatureOf(v));
  // Other problems: another signature.
  std::string third = kFsckOutput;
  third.replace(third.find("0x020028"), 8, "0x020004");
  EXPECT_NE(SignatureOf(Failed(Oracle::kFsck, "x", third)), SignatureOf(v));
  // The same earliest problems, and more in a later pass: the same signature.
  std::string later = kFsckOutput;
  later.replace(later.find("0x020047]"), 9, "0x020047,0x040003,0x050003]");
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "x", later)), SignatureOf(v));
}

TEST(SignatureSynthetic, FsckReplayStepThatFailed) {
  std::string out =
      "$ e2fsck -E journal_only -y img\n"
      "Superblock has an invalid journal (inode 8).\n"
      "[exit 12: operational error, errors left uncorrected]\n"
      "[problems: 0x000033]\n";
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "journal replay …", out)),
            "journal replay: 0x000033 (operational error, errors left uncorrected)");
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "x", "$ e2fsck -fn img\n[e2fsck hung (killed after 60 s)]\n")),
            "e2fsck -fn: hung");
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "x", "$ e2fsck -fn img\n[exit 8: operational error]\n")),
            "e2fsck -fn: operational error");
}

TEST(SignatureSynthetic, FsckWithoutOutputFallsBackOnTheDetail) {
  EXPECT_EQ(SignatureOf(Failed(Oracle::kFsck, "e2fsck -fn: exit 4: errors left uncorrected (Inode 12 bad)",
                               "(verdict of state 3: the same class)\n")),
            "e2fsck -fn: exit N: errors left uncorrected (Inode N bad)");
}

TEST(SignatureSynthetic, MountIsTheKernelsExt4ErrorFunctionAndMessage) {
  const char* line =
      "[   12.345678] EXT4-fs error (device loop0): ext4_lookup:1803: inode #12: comm ls: deleted inode "
      "referenced: 17";
  EXPECT_EQ(Ext4ErrorSignature(line), "ext4_lookup: deleted inode referenced");
  EXPECT_EQ(Ext4ErrorSignature("EXT4-fs error (device vda): ext4_mb_generate_buddy:1217: group 3, block bitmap "
                               "and bg descriptor inconsistent: 32768 vs 32767 free clusters"),
            "ext4_mb_generate_buddy: block bitmap and bg descriptor inconsistent: N vs N free clusters");
  EXPECT_EQ(Ext4ErrorSignature("EXT4-fs error (device loop1): ext4_find_extent:936: inode #13: comm cat: pblk "
                               "4660 bad header/extent: invalid magic - magic 0, entries 0, max 0(0), depth 0(0)"),
            "ext4_find_extent: pblk N bad header/extent: invalid magic - magic N, entries N, max N(N), depth N(N)");
  std::string out = std::string("--- guest kernel log ---\nEXT4-fs (loop0): recovery complete\n") + line +
                    "\n--- end of kernel log ---\n";
  Verdict v = Failed(Oracle::kMount, "kernel reported an ext4 error during mount/umount in the lab VM: …", out);
  EXPECT_EQ(SignatureOf(v), "ext4_lookup: deleted inode referenced");
}

TEST(SignatureSynthetic, MountFailedAndCheckAfterMount) {
  Verdict failed = Failed(Oracle::kMount,
                          "kernel mount failed in the lab VM: mount: /mnt: mounting /dev/loop0 on /mnt failed: "
                          "Invalid argument (kernel: EXT4-fs (loop0): VFS: Can't find ext4 filesystem)",
                          "");
  EXPECT_EQ(SignatureOf(failed), "mount failed: EXT4-fs (DEV): VFS: Can't find ext4 filesystem");
  Verdict after = Failed(Oracle::kMount, "after the guest kernel's journal replay: e2fsck -fn: exit 4: …",
                         "--- end of kernel log ---\n$ e2fsck -fn x\n[exit 4: errors left uncorrected]\n"
                         "[problems: 0x040004]\n");
  EXPECT_EQ(SignatureOf(after), "after mount, e2fsck -fn: 0x040004");
}

TEST(SignatureSynthetic, DataIsTheRuleAndEachPathsKind) {
  Verdict v = Failed(Oracle::kData, "2 of 6 checked paths differ …",
                     "rule: the state at mark 'step-3' (4 files, 2 directories)\n"
                     "p/one: missing (File not found by ext2_lookup)\n"
                     "p/two: size 12 md5 aa, expected size 6 md5 bb\n"
                     "p/q/: missing, expected a directory\n");
  EXPECT_EQ(SignatureOf(v), "at mark 'step-3': p/one missing; p/q/ missing; p/two other bytes");
  Verdict stable = Failed(Oracle::kData, "…",
                          "rule: stable between marks 'step-1' and 'step-2' (1 files, 0 directories)\n"
                          "p/one: size 3 md5 cc, expected size 6 md5 bb\n");
  EXPECT_EQ(SignatureOf(stable), "stable 'step-1'..'step-2': p/one other bytes");
}

TEST(SignatureSynthetic, OrderingIsTheKindsOfFindings) {
  Verdict a = Failed(Oracle::kOrdering, "…",
                     "in-place write at entry 114 (blocks 4385) is durable but the commit of transaction 2 that "
                     "journaled them (entry 113) is not\n"
                     "in-place write at entry 116 (blocks 4371,4372) is durable but the commit of transaction 2 "
                     "that journaled them (entry 113) is not\n");
  EXPECT_EQ(SignatureOf(a),
            "in-place write at entry N (blocks N) is durable but the commit of transaction N that journaled "
            "them (entry N) is not");
  Verdict b = Failed(Oracle::kOrdering, "…",
                     "transaction 2: commit block (entry 113, journal block 13) is durable but its descriptor "
                     "block (entry 101, journal block 1) is not: recovery stops there and loses the transaction\n");
  EXPECT_NE(SignatureOf(a), SignatureOf(b));
}

}  // namespace
}  // namespace torn::triage
