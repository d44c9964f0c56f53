// StateImage and the undo file against the real thing: real corpus traces (recorded on a real kernel),
// real e2fsck writing its real undo file, e2fsprogs' own e2undo as the reference for the undo format,
// and BuildFromScratch as the reference for every image.
#include "checker/state_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/fd.h"
#include "base/hash.h"
#include "base/subprocess.h"
#include "oracles/fsck.h"
#include "checker/undo_file.h"
#include "models/digest.h"
#include "replayer/materializer.h"
#include "trace/log.h"

namespace torn::checker {
namespace {

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

uint64_t DeviceBytes(const std::string& trace) {
  std::ifstream in(trace + "/trace.json");
  return nlohmann::json::parse(in).value("device_bytes", uint64_t{0});
}

std::string Md5(const std::string& path) {
  auto h = HashFileHex(HashAlgo::kMd5, path);
  EXPECT_TRUE(h.ok()) << h.status().message();
  return h.ok() ? *h : "";
}

// Every state of a budget on a barrier-less trace (journal replay writes a lot there, and e2fsck
// finds damage): after the oracles and Restore, the image is byte-identical to the state built from
// scratch, the digests agree with a full read, and the digest Restore reports is the image's as
// e2fsck left it.
void CheckRestores(const std::string& name, uint64_t max_states) {
  std::string trace = Corpus(name);
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok()) << log.status().message();
  models::SpaceOptions space;
  space.max_states = max_states;
  space.from_entry = log->FindMark("mkfs");
  auto states = models::StateSpace::Build(*log, space);
  ASSERT_TRUE(states.ok()) << states.status().message();
  auto dir = TempDir::Create("torn-state-image-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  uint64_t bytes = ImageBytes(*log, DeviceBytes(trace));
  auto image = StateImage::Create(*log, bytes, dir->path());
  ASSERT_TRUE(image.ok()) << image.status().message();
  std::string reference = dir->path() + "/reference.img";
  uint64_t states_seen = 0, restored_bytes_before = 0;
  Status st = states->ForEach([&](const models::CrashState& s) -> Status {
    ++states_seen;
    TORN_RETURN_IF_ERROR(image->MoveTo(s, &states->segments()[s.segment]));
    int fd = ::open(image->path().c_str(), O_RDONLY | O_CLOEXEC);
    auto full = models::ImageDigest(fd, bytes, log->sectorsize());
    EXPECT_TRUE(full.ok());
    EXPECT_EQ(*full, image->digest()) << "state " << s.id << ": digest before the oracles";
    oracles::FsckOptions fo;
    fo.undo_file = image->undo_path();
    auto v = oracles::RunFsck(image->path(), fo);
    EXPECT_TRUE(v.ok()) << v.status().message();
    auto after = models::ImageDigest(fd, bytes, log->sectorsize());
    ::close(fd);
    restored_bytes_before = image->restore_stats().bytes;
    auto left = image->DigestAsLeft();
    EXPECT_TRUE(left.ok()) << left.status().message();
    EXPECT_TRUE(left->has_value()) << "state " << s.id << ": an untrusted undo record after a normal e2fsck run";
    if (left->has_value()) EXPECT_EQ(**left, *after) << "state " << s.id << ": digest as e2fsck left the image";
    TORN_RETURN_IF_ERROR(image->Restore());
    TORN_RETURN_IF_ERROR(replay::BuildFromScratch(*log, s, reference, bytes));
    EXPECT_EQ(Md5(image->path()), Md5(reference)) << "state " << s.id << ": image after Restore";
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(states_seen, max_states);
  // The test means something only if e2fsck wrote: journal replay on these states does.
  EXPECT_GT(image->restore_stats().restores, max_states / 2);
  EXPECT_GT(image->restore_stats().bytes, 0u);
  EXPECT_EQ(image->restore_stats().rebuilds, 0u);
}

TEST(StateImage, RestoresEveryStateOfTheBarrierlessCorpusTraceAfterRealE2fsck) {
  CheckRestores("ext4-nobarrier", 60);
}
TEST(StateImage, RestoresEveryStateOfTheDefaultCorpusTraceAfterRealE2fsck) {
  CheckRestores("ext4-default", 40);
}
TEST(StateImage, RestoresEveryStateOfThe4kSectorCorpusTraceAfterRealE2fsck) {
  CheckRestores("ext4-4k", 30);
}

// A damaged undo record is never trusted: Restore gives up, and the next move rebuilds the image.
TEST(StateImage, DamagedUndoRecordRebuildsTheImage) {
  std::string trace = Corpus("ext4-default");
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok());
  auto states = models::StateSpace::Build(*log, {.max_states = 3});
  ASSERT_TRUE(states.ok());
  std::vector<models::CrashState> all;
  ASSERT_TRUE(states->ForEach([&](const models::CrashState& s) {
    all.push_back(s);
    return Status::Ok();
  }).ok());
  auto dir = TempDir::Create("torn-state-image-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  uint64_t bytes = ImageBytes(*log, DeviceBytes(trace));
  auto image = StateImage::Create(*log, bytes, dir->path());
  ASSERT_TRUE(image.ok());
  const models::CrashState& last = all.back();
  ASSERT_TRUE(image->MoveTo(last).ok());
  // Scribble on the image as an oracle would, and leave an undo "record" that is not one.
  std::string junk(4096, 'x');
  {
    auto fd = OpenFile(image->path(), O_WRONLY);
    ASSERT_TRUE(fd.ok());
    ASSERT_EQ(::pwrite(fd->get(), junk.data(), junk.size(), 8192), ssize_t(junk.size()));
  }
  { std::ofstream(image->undo_path()) << "not an undo file, but long enough to have a header? no: " << junk; }
  auto left = image->DigestAsLeft();
  ASSERT_TRUE(left.ok());
  EXPECT_FALSE(left->has_value());
  ASSERT_TRUE(image->Restore().ok());
  EXPECT_EQ(image->restore_stats().rebuilds, 1u);
  ASSERT_TRUE(image->MoveTo(last).ok());
  std::string reference = dir->path() + "/reference.img";
  ASSERT_TRUE(replay::BuildFromScratch(*log, last, reference, bytes).ok());
  EXPECT_EQ(Md5(image->path()), Md5(reference));
}

// The undo format as e2fsprogs reads it: applying torn's parse of a real undo file restores the same
// bytes as e2undo, and both give back the image e2fsck started from.
TEST(UndoFile, ParseAgreesWithE2undoOnARealJournalReplay) {
  auto dir = TempDir::Create("torn-undo-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  std::string img = dir->path() + "/state.img", undo = dir->path() + "/state.undo";
  std::string trace = Corpus("ext4-default");
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok());
  models::CrashState prefix;  // entries [0, 150]: inside the workload, the journal needs recovery
  prefix.crash_point = 150;
  prefix.base_end = 151;
  ASSERT_TRUE(replay::BuildFromScratch(*log, prefix, img, DeviceBytes(trace)).ok());
  std::string original = Md5(img);
  oracles::FsckOptions fo;
  fo.undo_file = undo;
  fo.full_check = false;
  auto v = oracles::RunFsck(img, fo);
  ASSERT_TRUE(v.ok());
  std::string replayed = Md5(img);
  ASSERT_NE(replayed, original) << "journal replay changed nothing: the test proves nothing";

  auto rec = ReadUndoFile(undo);
  ASSERT_TRUE(rec.ok()) << rec.status().message();
  EXPECT_TRUE(rec->finished);
  EXPECT_FALSE(rec->regions.empty());
  // torn's restore on a copy, e2undo on the image.
  std::string copy = dir->path() + "/copy.img";
  ASSERT_TRUE(RunChild({.argv = {"cp", "--sparse=always", img, copy}}).ok());
  int fd = ::open(copy.c_str(), O_WRONLY | O_CLOEXEC);
  for (auto it = rec->regions.rbegin(); it != rec->regions.rend(); ++it)
    ASSERT_EQ(::pwrite(fd, it->bytes.data(), it->bytes.size(), off_t(it->offset)), ssize_t(it->bytes.size()));
  ::close(fd);
  auto e2undo = RunChild({.argv = {"e2undo", undo, img}});
  ASSERT_TRUE(e2undo.ok() && e2undo->status.success()) << (e2undo.ok() ? e2undo->output : "");
  EXPECT_EQ(Md5(img), original);
  EXPECT_EQ(Md5(copy), original);
}

TEST(UndoFile, MissingOrEmptyFileMeansNothingWritten) {
  auto dir = TempDir::Create("torn-undo-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  auto missing = ReadUndoFile(dir->path() + "/none");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->finished && missing->regions.empty());
  std::ofstream(dir->path() + "/empty").close();
  auto empty = ReadUndoFile(dir->path() + "/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->finished && empty->regions.empty());
}

TEST(UndoFile, DamagedHeaderIsAnErrorNamingTheFile) {
  auto dir = TempDir::Create("torn-undo-test-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  std::string p = dir->path() + "/bad.undo";
  { std::ofstream(p) << std::string(1024, 'E'); }
  auto r = ReadUndoFile(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(p), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace torn::checker
