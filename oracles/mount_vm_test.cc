// The mount oracle in the lab VM on REAL images: crash states of corpus/ext4-default built with the
// replayer's BuildFromScratch, and copies of them that this test corrupts itself. Boots the real Debian
// kernel under qemu (no mock of the kernel or of qemu); the host-mount comparison needs root.
#include "oracles/mount_vm.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "base/fd.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "oracles/mount.h"
#include "oracles/test_images.h"
#include "checker/state_image.h"
#include "replayer/materializer.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::oracles {
namespace {

const std::string kTrace = std::string(TORN_SOURCE_DIR) + "/corpus/ext4-default";

// The trace, its crash states, and image files written from them (all in /dev/shm, removed at exit).
struct Fixture {
  std::unique_ptr<trace::Log> log;
  uint64_t bytes = 0;
  TempDir dir;
  size_t commit = 0;  // the first jbd2 commit block (FUA|META with data) after the mark step-1

  static Fixture& Get() {
    static Fixture f = Make();  // destroyed at exit: the temporary images go with it
    return f;
  }
  static Fixture Make() {
    Fixture f;
    auto log = trace::Log::Open(kTrace);
    if (!log.ok()) throw std::runtime_error(log.status().message());
    f.log = std::make_unique<trace::Log>(std::move(log).value());
    auto desc = trace::ReadDescription(kTrace);
    uint64_t device = desc.ok() ? desc->value("device_bytes", uint64_t(0)) : 0;
    f.bytes = checker::ImageBytes(*f.log, device);
    auto dir = TempDir::Create("torn-vmmount-test-", "/dev/shm");
    if (!dir.ok()) throw std::runtime_error(dir.status().message());
    f.dir = std::move(dir).value();
    size_t step1 = *f.log->FindMark("step-1");
    for (size_t i = step1; i < f.log->size() && !f.commit; ++i) {
      const trace::Entry& e = f.log->entry(i);
      if (e.fua() && e.metadata() && e.has_data()) f.commit = i;
    }
    if (!f.commit) throw std::runtime_error("no jbd2 commit after step-1");
    return f;
  }

  // The crash right after entry `last` (everything through it durable, nothing reordered), written
  // to NAME, then `corrupt` applied to that file.
  std::string Prefix(size_t last, const std::string& name, void (*corrupt)(int fd) = nullptr) {
    models::CrashState st;
    st.base_end = last + 1;
    st.crash_point = last;
    std::string path = dir.path() + "/" + name;
    Status b = replay::BuildFromScratch(*log, st, path, bytes);
    if (!b.ok()) throw std::runtime_error(b.message());
    auto fd = OpenFile(path, O_RDWR);
    if (!fd.ok()) throw std::runtime_error("open " + path);
    if (corrupt) corrupt(fd->get());
    return path;
  }
  size_t End() const { return log->size() - 1; }  // after the unmount: a clean file system
};

// Corruptions, written by this test on a real image.
void ZeroSuperBlockMagic(int fd) {
  const std::byte zero[2] = {};
  ASSERT_TRUE(PwriteFull(fd, zero, 1024 + 0x38).ok());
}

// The root directory's first block (debugfs finds it; this test writes the garbage).
void GarbleRootDirectoryBlock(int fd) {
  std::string path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);  // not debugfs's self
  SpawnOptions s;
  s.argv = {"debugfs", "-R", "bmap <2> 0", path};
  auto r = RunChild(s);
  ASSERT_TRUE(r.ok() && r->status.success()) << (r.ok() ? r->output : r.status().message());
  uint64_t block = 0;
  for (size_t pos = 0; pos < r->output.size();) {  // the last line that is a number
    size_t nl = r->output.find('\n', pos);
    std::string line = r->output.substr(pos, nl - pos);
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) block = std::stoull(line);
    pos = nl == std::string::npos ? r->output.size() : nl + 1;
  }
  ASSERT_GT(block, 0u) << r->output;
  uint8_t log_block[4];  // s_log_block_size: blocks of 1024 << it bytes (1 KiB on a 64 MiB mke2fs)
  ASSERT_TRUE(PreadFull(fd, std::as_writable_bytes(std::span(log_block)), 1024 + 0x18).ok());
  ASSERT_LT(log_block[0], 7);
  uint64_t block_bytes = 1024u << log_block[0];
  std::vector<std::byte> junk(block_bytes);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = std::byte((i * 151 + 7) & 0xff);
  ASSERT_TRUE(PwriteFull(fd, junk, block * block_bytes).ok());
}

// s_last_orphan (super block byte 0xE8) names inode 5, below the first ordinary inode: the kernel's
// orphan cleanup at mount logs "EXT4-fs error ... bad orphan inode" and (6.1) fails the mount with EIO.
// The super block's crc32c (metadata_csum) is recomputed, so only the orphan field is wrong.
void BadOrphanInSuperBlock(int fd) {
  std::byte sb[1024];
  ASSERT_TRUE(PreadFull(fd, sb, 1024).ok());
  auto put32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) sb[off + i] = std::byte((v >> (8 * i)) & 0xff);
  };
  put32(0xE8, 5);
  if (uint8_t(sb[0x65]) & 0x04) {  // RO_COMPAT_METADATA_CSUM (0x400)
    uint32_t crc = 0xFFFFFFFF;     // the kernel's crc32c(~0, sb, 0x3FC), no final inversion
    for (size_t i = 0; i < 0x3FC; ++i) {
      crc ^= uint8_t(sb[i]);
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    put32(0x3FC, crc);
  }
  ASSERT_TRUE(PwriteFull(fd, sb, 1024).ok());
}

VmMountOptions Options() {
  VmMountOptions o;
  o.image_timeout = std::chrono::seconds(60);
  o.on_progress = [](std::string_view s) { std::fprintf(stderr, "  [mount-vm] %.*s\n", int(s.size()), s.data()); };
  return o;
}

std::string Describe(const VmMountResult& r) {
  std::string s = "boots " + std::to_string(r.boots) + "\n";
  for (size_t i = 0; i < r.verdicts.size(); ++i)
    s += "#" + std::to_string(i) + (r.verdicts[i].ok ? " ok" : " FAIL: " + r.verdicts[i].detail) + "\n";
  return s;
}

TEST(MountVm, Available) {
  Status s = MountVmAvailable(Options());
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(MountVm, CleanMidTransactionStatesMountOk) {
  Fixture& f = Fixture::Get();
  std::vector<MountImage> images = {{f.Prefix(f.commit - 1, "before-commit")},  // mid-transaction
                                    {f.Prefix(f.commit, "after-commit")}};       // replay needed
  auto r = MountInVm(images, Options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), 2u);
  for (const Verdict& v : r->verdicts) {
    EXPECT_EQ(v.oracle, Oracle::kMount);
    EXPECT_TRUE(v.ok) << v.detail << "\n" << v.output;
  }
  // The kernel replayed the journal of the committed transaction.
  EXPECT_NE(r->verdicts[1].output.find("recovery complete"), std::string::npos) << r->verdicts[1].output;
  EXPECT_EQ(r->boots, 1u);
}

TEST(MountVm, CorruptSuperBlockMagicFailsTheMount) {
  Fixture& f = Fixture::Get();
  std::vector<MountImage> images = {{f.Prefix(f.End(), "bad-magic", ZeroSuperBlockMagic)}};
  auto r = MountInVm(images, Options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), 1u);
  EXPECT_FALSE(r->verdicts[0].ok);
  EXPECT_NE(r->verdicts[0].detail.find("kernel mount failed"), std::string::npos) << r->verdicts[0].detail;
}

TEST(MountVm, BadOrphanInodeInSuperBlockGivesTheKernelsExt4Error) {
  Fixture& f = Fixture::Get();
  std::vector<MountImage> images = {{f.Prefix(f.End(), "bad-orphan", BadOrphanInSuperBlock)}};
  auto r = MountInVm(images, Options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), 1u);
  EXPECT_FALSE(r->verdicts[0].ok) << r->verdicts[0].output;
  // The one-line detail carries the kernel's own words.
  EXPECT_NE(r->verdicts[0].detail.find("EXT4-fs error"), std::string::npos) << r->verdicts[0].detail;
  EXPECT_NE(r->verdicts[0].detail.find("bad orphan inode 5"), std::string::npos) << r->verdicts[0].detail;
}

// /dir names inode 13, whose links count is 0 (oracles/test_images.h). Mounting and unmounting do not
// notice; the walk's lookup of /dir/sub makes the guest kernel report ext4_lookup's "deleted inode
// referenced". Without the walk the verdict is e2fsck's afterwards, and the kernel says nothing.
TEST(MountVm, TheWalkSurfacesTheLookupErrorOnlyWithTheWalk) {
  Fixture& f = Fixture::Get();
  const std::string bad = f.dir.path() + "/deleted-inode.img", good = f.dir.path() + "/clean-dir.img";
  testing::MakeDeletedInodeImage(bad);
  testing::MakeCleanDirImage(good);
  std::vector<MountImage> images = {{bad}, {good}};
  auto walked = MountInVm(images, Options());
  ASSERT_TRUE(walked.ok()) << walked.status().message();
  ASSERT_EQ(walked->verdicts.size(), 2u);
  const Verdict& v = walked->verdicts[0];
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.detail.find("EXT4-fs error"), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("ext4_lookup"), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("deleted inode referenced: 13"), std::string::npos) << v.detail << "\n" << v.output;
  EXPECT_NE(v.output.find("Structure needs cleaning"), std::string::npos) << v.output;  // find's complaint
  EXPECT_TRUE(walked->verdicts[1].ok) << walked->verdicts[1].detail << "\n" << walked->verdicts[1].output;
  EXPECT_NE(walked->verdicts[1].output.find("[walked 5 entries]"), std::string::npos) << walked->verdicts[1].output;

  VmMountOptions no_walk = Options();
  no_walk.walk = false;
  auto plain = MountInVm(std::span(images).first(1), no_walk);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  ASSERT_EQ(plain->verdicts.size(), 1u);
  const Verdict& p = plain->verdicts[0];
  EXPECT_FALSE(p.ok);  // e2fsck -fn after the mount still sees the entry
  EXPECT_EQ(p.output.find("ext4_lookup"), std::string::npos) << p.output;
  EXPECT_NE(p.detail.find("after the guest kernel's journal replay"), std::string::npos) << p.detail;
  EXPECT_NE(p.output.find("Entry 'sub' in /dir (12) has deleted/unused inode 13"), std::string::npos) << p.output;
}

// >= 3 images, good and bad mixed, in one boot, verdicts in order; the host's kernel agrees.
TEST(MountVm, MixedBatchInOneBootAgreesWithTheHostMount) {
  Fixture& f = Fixture::Get();
  struct Case {
    std::string name;
    size_t last;
    void (*corrupt)(int);
    bool ok;
  };
  std::vector<Case> cases = {{"clean-end", f.End(), nullptr, true},
                             {"garbled-root-dir-block", f.End(), GarbleRootDirectoryBlock, false},
                             {"after-commit", f.commit, nullptr, true},
                             {"zeroed-sb-magic", f.End(), ZeroSuperBlockMagic, false},
                             {"before-commit", f.commit - 1, nullptr, true}};
  std::vector<MountImage> images;
  std::vector<bool> host_ok;
  // The host's kernel is the comparison: the tests run as root (the README says so), so it must work.
  Status host = HostMountAvailable();
  ASSERT_TRUE(host.ok()) << host.message();
  for (const Case& c : cases) {
    images.push_back({f.Prefix(c.last, c.name, c.corrupt)});
    auto v = CheckMount(images.back().path, f.dir.path(), {});
    ASSERT_TRUE(v.ok()) << c.name << ": " << v.status().message();
    host_ok.push_back(v->ok);
    EXPECT_EQ(v->ok, c.ok) << c.name << " on the host: " << v->detail;
  }
  auto r = MountInVm(images, Options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), cases.size());
  EXPECT_EQ(r->boots, 1u);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(r->verdicts[i].ok, cases[i].ok) << cases[i].name << ": " << r->verdicts[i].detail << "\n"
                                              << r->verdicts[i].output;
    EXPECT_EQ(r->verdicts[i].ok, host_ok[i]) << cases[i].name << ": the VM and the host disagree";
  }
  // The garbled root directory block: the walk's readdir of / makes the guest kernel check the block,
  // and its error is the verdict (before e2fsck -fn, which finds the same block afterwards).
  EXPECT_NE(r->verdicts[1].detail.find("EXT4-fs error (device loop0): htree_dirblock_to_tree"), std::string::npos)
      << r->verdicts[1].detail;
  EXPECT_NE(r->verdicts[1].detail.find("inode #2"), std::string::npos) << r->verdicts[1].detail;
}

// A real guest panic (sysrq c) and a real hang where image 1 would mount: image 1's verdict says so,
// the images after it get a fresh boot, and nothing is lost or reordered.
TEST(MountVm, PanicAndHangAreTheImagesVerdictAndTheRestReboots) {
  Fixture& f = Fixture::Get();
  std::vector<MountImage> images = {{f.Prefix(f.End(), "p0")},
                                    {f.Prefix(f.End(), "p1")},
                                    {f.Prefix(f.End(), "p2", ZeroSuperBlockMagic)}};
  VmMountOptions o = Options();
  o.test_panic_at = 1;
  auto r = MountInVm(images, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), 3u) << Describe(*r);
  EXPECT_TRUE(r->verdicts[0].ok) << Describe(*r);
  EXPECT_FALSE(r->verdicts[1].ok);
  EXPECT_NE(r->verdicts[1].detail.find("guest kernel panicked mounting this image"), std::string::npos)
      << r->verdicts[1].detail;
  EXPECT_NE(r->verdicts[1].output.find("sysrq"), std::string::npos) << r->verdicts[1].output;
  EXPECT_FALSE(r->verdicts[2].ok);
  EXPECT_NE(r->verdicts[2].detail.find("kernel mount failed"), std::string::npos) << Describe(*r);
  EXPECT_EQ(r->boots, 2u);

  o.test_panic_at = -1;
  o.test_hang_at = 0;
  o.image_timeout = std::chrono::seconds(15);
  r = MountInVm(std::span(images).first(2), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->verdicts.size(), 2u) << Describe(*r);
  EXPECT_FALSE(r->verdicts[0].ok);
  EXPECT_NE(r->verdicts[0].detail.find("guest kernel hung mounting this image"), std::string::npos)
      << r->verdicts[0].detail;
  EXPECT_TRUE(r->verdicts[1].ok) << Describe(*r);
  EXPECT_EQ(r->boots, 2u);
}

TEST(MountVm, UnreadableImageIsAnErrorNamingIt) {
  std::vector<MountImage> images = {{"/nonexistent/torn-image"}};
  auto r = MountInVm(images, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/torn-image"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace torn::oracles
