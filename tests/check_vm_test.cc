// torn check's mount oracle in the lab VM, end to end through the binary: Debian's kernel under QEMU
// mounts the crash states' images (its own journal replay), e2fsck judges what it left, and the
// verdicts land in SQLite with the others. Label vm: these tests boot the real kernel.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/temp_file.h"
#include "store/store.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

nlohmann::json CheckJson(const std::vector<std::string>& args, int expect_rc) {
  auto r = RunTorn(args, 1200);
  EXPECT_EQ(r.status.code, expect_rc) << r.output;
  size_t brace = r.output.find('{');
  auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

// Every state gets exactly one mount verdict, stored with its other verdicts, in batches of boots.
uint64_t MountVerdicts(const std::string& db, uint64_t* failed) {
  auto s = store::Store::Open(db);
  EXPECT_TRUE(s.ok());
  auto states = s->LoadStates(1);  // the first and only run of a fresh file
  EXPECT_TRUE(states.ok());
  uint64_t n = 0;
  *failed = 0;
  for (const auto& st : *states) {
    int mounts = 0;
    for (const auto& v : st.verdicts)
      if (v.oracle == "mount") {
        ++mounts;
        if (!v.ok) ++*failed;
      }
    EXPECT_EQ(mounts, 1) << "state " << st.state_id;
    n += mounts;
  }
  return n;
}

TEST(CheckVm, MountOracleInTheLabVmPassesExt4WithBarriers) {
  auto dir = TempDir::Create("torn-check-vm-");
  std::string db = dir->path() + "/r.db";
  auto j = CheckJson({"check", Corpus("ext4-default"), "--oracle", "fsck,mount", "--budget", "40", "--jobs", "2",
                "--mount-batch", "16", "--db", db, "--json"},
               0);
  // Classes: fewer than 40 groups cover every state after mkfs; each judged state got a mount verdict.
  EXPECT_EQ(j["strategy"], "exhaustive");
  EXPECT_EQ(j["states"]["covered"], j["states"]["possible"]);
  uint64_t checked = j["states"]["checked"].get<uint64_t>();
  EXPECT_GE(checked, j["states"]["generated"].get<uint64_t>());
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump(1);
  // At most one image per judged class, batches of 16: at least ceil(distinct / 16) boots.
  uint64_t distinct = j["distinct_images"].get<uint64_t>();
  EXPECT_GT(distinct, 0u);
  EXPECT_GE(j["mount_boots"].get<uint64_t>(), (distinct + 15) / 16);
  uint64_t failed = 0;
  EXPECT_EQ(MountVerdicts(db, &failed), checked);
  EXPECT_EQ(failed, 0u);
}

// Without barriers the guest kernel's journal replay leaves broken file systems, as e2fsck's does.
// Without the mount oracle, the default oracles on a fast_commit file system: the states with a
// journal to replay are judged after the lab VM kernel's replay (oracles/kernel_replay.h), since
// e2fsprogs 1.47.0's fails legal ones (CheckFastCommit in check_test.cc); no mount verdict is stored.
TEST(CheckVm, FastCommitStatesAreJudgedAfterTheLabVmKernelsJournalReplay) {
  auto dir = TempDir::Create("torn-check-vm-");
  std::string db = dir->path() + "/r.db";
  auto j = CheckJson({"check", Corpus("ext4-fast-commit"), "--budget", "40", "--jobs", "2", "--db", db, "--json"}, 0);
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump(1);
  EXPECT_GE(j["mount_boots"].get<uint64_t>(), 1u);
  auto s = store::Store::Open(db);
  ASSERT_TRUE(s.ok());
  auto states = s->LoadStates(1);
  ASSERT_TRUE(states.ok());
  size_t by_kernel = 0;
  for (const auto& st : *states)
    for (const auto& v : st.verdicts) {
      EXPECT_NE(v.oracle, "mount") << "state " << st.state_id;
      if (v.oracle == "fsck" && v.output.find("journal replayed by the kernel") != std::string::npos) {
        ++by_kernel;
        EXPECT_NE(v.output.find("e2fsck -fn"), std::string::npos) << v.output;
      }
    }
  EXPECT_GT(by_kernel, 0u);
}

TEST(CheckVm, MountOracleInTheLabVmFailsExt4WithoutBarriers) {
  auto dir = TempDir::Create("torn-check-vm-");
  std::string db = dir->path() + "/r.db";
  auto j = CheckJson({"check", Corpus("ext4-nobarrier"), "--oracle", "fsck,mount", "--budget", "20", "--jobs", "2",
                "--db", db, "--json"},
               1);
  uint64_t mount = 0, fsck = 0;
  for (const auto& v : j["violations"]) {
    if (v["oracle"] == "mount") ++mount;
    if (v["oracle"] == "fsck") ++fsck;
    EXPECT_FALSE(v["detail"].get<std::string>().empty());
  }
  EXPECT_GT(mount, 0u);
  EXPECT_GT(fsck, 0u);
  EXPECT_EQ(j["mount_boots"], 1);
  uint64_t failed = 0;
  EXPECT_EQ(MountVerdicts(db, &failed), j["states"]["checked"].get<uint64_t>());
  EXPECT_EQ(failed, mount);
}

// The error of the 2022 loop-flush report, reproduced (issue 11, docs/triage.md "Reproducing
// `deleted inode referenced`"): corpus/ext4-rsync-remount (two rsync runs, an unmount between them,
// the trace ending with an unmount) under a lower layer that drops writes across 8 flushes
// (reorder:8). The lab VM's kernel mounts the crash states and walks the tree; the hunt keeps the
// states where ext4_lookup finds a directory entry whose inode has no links. Minimized, the cause is
// one lost write: the in-place write of /dir's directory block, whose transaction the journal super
// block (written at the crash point, after the checkpoint) no longer replays. Real e2fsck on the
// minimal state, rebuilt by the printed command, reports its counterpart.
TEST(CheckVm, LeakingFlushesGiveTheKernelsDeletedInodeReferencedFromOneLostDirectoryWrite) {
  auto dir = TempDir::Create("torn-check-vm-");
  ASSERT_TRUE(dir.ok());
  auto j = CheckJson({"check", Corpus("ext4-rsync-remount"), "--model", "reorder:8", "--from-mark", "umount-start",
                      "--oracle", "mount", "--match", "deleted inode referenced", "--budget", "20", "--jobs", "2",
                      "--minimize", "1", "--json"},
                     1);
  EXPECT_NE(j["beyond_contract"].get<std::string>().find("beyond the block layer's contract"), std::string::npos);
  ASSERT_FALSE(j["violations"].empty());
  for (const auto& v : j["violations"]) {
    EXPECT_EQ(v["oracle"], "mount");
    EXPECT_NE(v["detail"].get<std::string>().find("ext4_lookup"), std::string::npos) << v.dump();
    EXPECT_NE(v["detail"].get<std::string>().find("deleted inode referenced"), std::string::npos) << v.dump();
  }
  ASSERT_EQ(j["signatures"].size(), 1u) << j["signatures"].dump(1);
  const auto& sig = j["signatures"][0];
  EXPECT_EQ(sig["signature"], "ext4_lookup: deleted inode referenced");
  const auto& m = sig["minimization"];
  ASSERT_TRUE(m.is_object()) << sig.dump(1);
  EXPECT_EQ(m["one_minimal"], true);
  EXPECT_EQ(m["reproduced"], true);
  EXPECT_EQ(m["signature"], "ext4_lookup: deleted inode referenced");
  ASSERT_EQ(sig["minimal"].size(), 1u) << sig.dump(1);
  ASSERT_EQ(sig["explanation"].size(), 1u);
  const auto& w = sig["explanation"][0];
  ASSERT_FALSE(w["blocks"].empty());
  EXPECT_EQ(w["blocks"][0]["what"], "directory block of /dir (inode 12)") << w.dump(1);
  ASSERT_EQ(w["in_place"].size(), 1u) << w.dump(1);
  EXPECT_EQ(w["in_place"][0]["commit_durable"], true);
  EXPECT_EQ(w["in_place"][0]["recovery"].get<std::string>().rfind("not replayed: the journal super block", 0), 0u)
      << w.dump(1);

  // The minimal state, rebuilt by torn replay, and real e2fsck: the directory entry of a freed inode.
  std::string img = dir->path() + "/s.img";
  auto replay = RunTorn({"replay", Corpus("ext4-rsync-remount"), "--to-entry",
                         std::to_string(m["crash_point"].get<uint64_t>()), "--drop",
                         std::to_string(sig["minimal"][0].get<uint64_t>()), "--device-size", "67108864", "--out", img});
  ASSERT_EQ(replay.status.code, 0) << replay.output;
  auto jr = RunChild({.argv = {"e2fsck", "-E", "journal_only", "-y", img}});
  ASSERT_TRUE(jr.ok());
  auto fn = RunChild({.argv = {"e2fsck", "-fn", img}});
  ASSERT_TRUE(fn.ok());
  EXPECT_EQ(fn->status.code, 4) << fn->output;
  EXPECT_NE(fn->output.find("in /dir (12) has deleted/unused inode"), std::string::npos) << fn->output;
}

}  // namespace
}  // namespace torn::testing
