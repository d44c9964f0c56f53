// torn record --vm end to end: a real kernel's dm-log-writes trace recorded in the lab VM, checked with
// torn info and torn replay, e2fsck and debugfs (the "Done when" of the recorder's issue), and the
// failure paths: a failing workload, a guest panic, a time limit, a full log device. Each failure must
// end with exit status 2, a clear reason, the console's tail, and nothing left in $TMPDIR or DIR.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "lab/kernel.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {
namespace fs = std::filesystem;

constexpr const char* kWorkload = R"(# two levels of directories, fsync, a hard link, truncate, a rename
mkdir -p $MNT/p/q
echo first > $MNT/p/one
fsync $MNT/p/one
mark fsync-1
dd if=/dev/urandom of=$MNT/p/q/blob bs=4k count=20 2>/dev/null
ln $MNT/p/one $MNT/p/q/one-link
manifest step-2
truncate -s 8192 $MNT/p/q/blob
echo more >> $MNT/p/one
rm $MNT/p/q/one-link
mv $MNT/p/q $MNT/p/r
manifest step-3
)";

struct RecordRun {
  RunResult result;
  std::string tmpdir_left;  // what torn left in its $TMPDIR
};

class RecordVm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::move(TempDir::Create("torn-e2e-record-").value());
    tmp_ = dir_.path() + "/tmp";
    fs::create_directories(tmp_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_.path() + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(p, text).ok());
    return p;
  }
  // torn record with its own $TMPDIR, so leftovers are visible.
  RecordRun Record(std::vector<std::string> args) {
    SpawnOptions o;
    o.argv = {TORN_BINARY, "record", "--vm", "--quiet"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {"TMPDIR=" + tmp_};
    o.timeout = std::chrono::seconds(400);
    auto r = RunChild(o);
    if (!r.ok()) throw std::runtime_error(r.status().message());
    RecordRun run{std::move(r).value(), ""};
    for (const auto& e : fs::directory_iterator(tmp_)) run.tmpdir_left += e.path().filename().string() + " ";
    return run;
  }
  void ExpectCleanFailure(const RecordRun& run, const std::string& reason, const std::string& out) {
    EXPECT_EQ(run.result.status.code, 2) << run.result.output;
    EXPECT_NE(run.result.output.find(reason), std::string::npos) << run.result.output;
    EXPECT_NE(run.result.output.find("--- guest console (last lines) ---"), std::string::npos);
    EXPECT_EQ(run.tmpdir_left, "");
    EXPECT_FALSE(fs::exists(out + "/trace.json"));
  }
  TempDir dir_;
  std::string tmp_;
};

std::string Md5Of(std::string_view data) {
  std::string p = "/tmp/torn-md5-" + std::to_string(::getpid());
  EXPECT_TRUE(WriteFileAtomic(p, data).ok());
  std::string m = Md5OfFile(p);
  ::unlink(p.c_str());
  return m;
}

TEST_F(RecordVm, RecordsATraceThatReplaysToTheLastManifest) {
  std::string out = dir_.path() + "/trace";
  RecordRun run = Record({"--workload", Write("w.sh", kWorkload), "--out", out, "--size", "64M"});
  ASSERT_TRUE(run.result.status.success()) << run.result.output;
  EXPECT_EQ(run.tmpdir_left, "");
  for (const char* f : {"trace.json", "log.zst", "expectations.json", "console.log"}) {
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  }

  // The marks the workload sent, in order, between torn's own.
  RunResult info = RunTorn({"info", out, "--json"});
  ASSERT_TRUE(info.status.success()) << info.output;
  auto j = nlohmann::json::parse(info.output);
  std::vector<std::string> marks;
  for (const auto& m : j["marks"]) marks.push_back(m["name"]);
  EXPECT_EQ(marks, (std::vector<std::string>{"mkfs", "fsync-1", "step-2", "step-3", "dm-log-writes-end"}));
  EXPECT_EQ(j["sectorsize"], 512);

  // The description says how the trace was made.
  auto desc = nlohmann::json::parse(*ReadFileToString(out + "/trace.json"));
  EXPECT_EQ(desc["source"]["fs"], "ext4");
  EXPECT_EQ(desc["source"]["device_bytes"], 64u << 20);
  EXPECT_EQ(desc["source"]["workload"], kWorkload);
  EXPECT_NE(desc["source"]["kernel"].get<std::string>().find("linux-image"), std::string::npos);

  // The manifest at the last manifest's mark: what the workload made.
  auto expect = nlohmann::json::parse(*ReadFileToString(out + "/expectations.json"));
  ASSERT_TRUE(expect.contains("step-2") && expect.contains("step-3"));
  const auto& last = expect["step-3"];
  EXPECT_EQ(last["dirs"], (nlohmann::json{".", "lost+found", "p", "p/r"}));
  ASSERT_EQ(last["files"].size(), 2u);
  EXPECT_EQ(last["files"][0]["path"], "p/one");
  EXPECT_EQ(last["files"][0]["size"], 11);
  EXPECT_EQ(last["files"][0]["md5"], Md5Of("first\nmore\n"));
  EXPECT_EQ(last["files"][1]["path"], "p/r/blob");
  EXPECT_EQ(last["files"][1]["size"], 8192);

  // Replay to the last manifest's mark: e2fsck (journal replay, then a full check) passes and the
  // files read back through debugfs (libext2fs) match the manifest.
  std::string img = dir_.path() + "/img";
  RunResult replay = RunTorn({"replay", out, "--out", img, "--to-mark", "step-3"});
  ASSERT_TRUE(replay.status.success()) << replay.output;
  auto journal = RunChild({.argv = {"e2fsck", "-E", "journal_only", "-y", img}});
  ASSERT_TRUE(journal.ok());
  EXPECT_TRUE(journal->status.success()) << journal->output;
  auto fsck = RunChild({.argv = {"e2fsck", "-fn", img}});
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->status.success()) << fsck->output;
  for (const auto& f : last["files"]) {
    std::string dumped = dir_.path() + "/dumped";
    std::string path = f["path"];
    auto dump = RunChild({.argv = {"debugfs", "-R", "dump /" + path + " " + dumped, img}});
    ASSERT_TRUE(dump.ok() && dump->status.success());
    EXPECT_EQ(fs::file_size(dumped), f["size"].get<uint64_t>()) << path;
    EXPECT_EQ(Md5OfFile(dumped), f["md5"].get<std::string>()) << path;
    fs::remove(dumped);
  }
  for (const auto& d : last["dirs"]) {
    std::string path = d;
    auto ls = RunChild({.argv = {"debugfs", "-R", "ls -l /" + (path == "." ? "" : path), img}});
    ASSERT_TRUE(ls.ok());
    EXPECT_EQ(ls->output.find("File not found"), std::string::npos) << path << ls->output;
  }

  // The whole log (through dm-log-writes-end, after the unmount) is a clean file system too.
  std::string full = dir_.path() + "/full";
  ASSERT_TRUE(RunTorn({"replay", out, "--out", full}).status.success());
  auto clean = RunChild({.argv = {"e2fsck", "-fn", full}});
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->status.success()) << clean->output;
}

// Also boots the kernel named with --kernel (the cached Debian bzImage: its modules are found beside
// it, its uncompressed image extracted once).
TEST_F(RecordVm, FourKSectorsWithAGivenKernel) {
  auto kernel = lab::DebianKernel(nullptr);
  ASSERT_TRUE(kernel.ok()) << kernel.status().message();
  std::string out = dir_.path() + "/trace4k";
  RecordRun run = Record({"--workload", Write("w.sh", "echo x > $MNT/x; manifest one\n"), "--out", out,
                          "--size", "32M", "--sector", "4096", "--kernel", kernel->vmlinuz});
  ASSERT_TRUE(run.result.status.success()) << run.result.output;
  auto j = nlohmann::json::parse(RunTorn({"info", out, "--json"}).output);
  EXPECT_EQ(j["sectorsize"], 4096);
  auto desc = nlohmann::json::parse(*ReadFileToString(out + "/trace.json"));
  EXPECT_EQ(desc["source"]["kernel"], "user kernel " + kernel->vmlinuz);
}

TEST_F(RecordVm, FailingWorkload) {
  std::string out = dir_.path() + "/t";
  RecordRun run = Record({"--workload", Write("w.sh", "echo before; false; echo never\n"), "--out", out,
                    "--size", "32M"});
  ExpectCleanFailure(run, "failed with status 1", out);
  EXPECT_NE(run.result.output.find("before"), std::string::npos);  // the console tail
  EXPECT_EQ(run.result.output.find("never"), std::string::npos);   // sh -e stopped it
}

TEST_F(RecordVm, GuestPanic) {
  std::string out = dir_.path() + "/t";
  RecordRun run = Record({"--workload", Write("w.sh", "echo c > /proc/sysrq-trigger\n"), "--out", out,
                    "--size", "32M"});
  ExpectCleanFailure(run, "the guest kernel panicked", out);
}

TEST_F(RecordVm, TimeLimit) {
  std::string out = dir_.path() + "/t";
  RecordRun run = Record({"--workload", Write("w.sh", "sleep 600\n"), "--out", out, "--size", "32M",
                    "--timeout", "30"});
  ExpectCleanFailure(run, "time limit", out);
}

TEST_F(RecordVm, FullLogDevice) {
  std::string out = dir_.path() + "/t";
  // 4 MiB of log cannot hold mkfs's writes plus 8 MiB of data.
  RecordRun run = Record({"--workload", Write("w.sh", "dd if=/dev/zero of=$MNT/f bs=1M count=8; sync\n"),
                    "--out", out, "--size", "32M", "--log-size", "4M"});
  ExpectCleanFailure(run, "dm-log-writes stopped logging", out);
}

TEST_F(RecordVm, UsageErrors) {
  std::string out = dir_.path() + "/t";
  EXPECT_EQ(RunTorn({"record", "--vm", "--out", out}).status.code, 2);  // no --workload
  EXPECT_EQ(RunTorn({"record", "--vm", "--workload", "/nonexistent", "--out", out}).status.code, 2);
  std::string w = Write("w.sh", "true\n");
  EXPECT_EQ(RunTorn({"record", "--workload", w, "--out", out, "--sector", "1024"}).status.code, 2);
  EXPECT_EQ(RunTorn({"record", "--workload", w, "--out", out, "--size", "12Q"}).status.code, 2);
  EXPECT_EQ(RunTorn({"record", "--workload", w, "--out", out, "--fs", "vfat"}).status.code, 2);
  EXPECT_EQ(RunTorn({"record", "--vm", "--host", "--workload", w, "--out", out}).status.code, 2);
  RunResult host = RunTorn({"record", "--host", "--dev", "/dev/null", "--log-dev", "/dev/zero", "--out",
                            out, "--", "true"});
  EXPECT_EQ(host.status.code, 2);
  EXPECT_NE(host.output.find("not a block device"), std::string::npos) << host.output;
  RunResult help = RunTorn({"record", "--help"});
  EXPECT_EQ(help.status.code, 0);
  EXPECT_NE(help.output.find("$MNT"), std::string::npos);
  EXPECT_NE(help.output.find("manifest NAME"), std::string::npos);
}

}  // namespace
}  // namespace torn::testing
