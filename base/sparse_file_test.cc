#include "base/sparse_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "base/temp_file.h"

namespace torn {
namespace {

constexpr uint64_t kMiB = 1 << 20;

std::string ReadAll(int fd, uint64_t bytes) {
  std::string s(bytes, '\0');
  EXPECT_TRUE(PreadFull(fd, std::as_writable_bytes(std::span(s.data(), s.size())), 0).ok());
  return s;
}

uint64_t Allocated(int fd) {
  struct stat st;
  ::fstat(fd, &st);
  return uint64_t(st.st_blocks) * 512;
}

void Put(int fd, uint64_t offset, char c, size_t n) {
  std::string s(n, c);
  ASSERT_TRUE(PwriteFull(fd, std::as_bytes(std::span(s.data(), s.size())), offset).ok());
}

// A 16 MiB file with two data runs (on /dev/shm, where holes are holes) copied over a file full of junk:
// equal bytes, and the copy's holes are holes again.
TEST(SparseFile, SparseCopyGivesEqualBytesAndKeepsHoles) {
  auto src = TempFile::Create("torn-sparse-test-", "/dev/shm");
  auto dst = TempFile::Create("torn-sparse-test-", "/dev/shm");
  ASSERT_TRUE(src.ok() && dst.ok());
  ASSERT_EQ(::ftruncate(src->fd(), 16 * kMiB), 0);
  Put(src->fd(), 4096, 'a', 8192);
  Put(src->fd(), 9 * kMiB, 'b', kMiB);
  Put(dst->fd(), 0, 'j', 16 * kMiB);
  ASSERT_TRUE(SparseCopy(src->fd(), dst->fd(), 16 * kMiB).ok());
  EXPECT_EQ(ReadAll(src->fd(), 16 * kMiB), ReadAll(dst->fd(), 16 * kMiB));
  EXPECT_LE(Allocated(dst->fd()), 2 * kMiB);
}

TEST(SparseFile, CopyDataRangeMovesOnlyDataToTheOffset) {
  auto src = TempFile::Create("torn-sparse-test-", "/dev/shm");
  auto dst = TempFile::Create("torn-sparse-test-", "/dev/shm");
  ASSERT_TRUE(src.ok() && dst.ok());
  ASSERT_EQ(::ftruncate(src->fd(), 4 * kMiB), 0);
  Put(src->fd(), kMiB, 'x', 4096);
  Put(dst->fd(), 0, 'y', 8 * kMiB);  // under src's holes dst keeps its bytes
  ASSERT_TRUE(CopyDataRange(src->fd(), 0, dst->fd(), 2 * kMiB, 4 * kMiB).ok());
  std::string got = ReadAll(dst->fd(), 8 * kMiB);
  EXPECT_EQ(got.substr(3 * kMiB, 4096), std::string(4096, 'x'));
  EXPECT_EQ(got.substr(3 * kMiB - 1, 1), "y");
  EXPECT_EQ(got.substr(3 * kMiB + 4096, 1), "y");
  int extents = 0;
  ASSERT_TRUE(ForEachDataExtent(src->fd(), 0, 4 * kMiB, [&](uint64_t off, uint64_t len) {
    ++extents;
    EXPECT_LE(off, kMiB);
    EXPECT_GE(off + len, kMiB + 4096);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(extents, 1);
}

}  // namespace
}  // namespace torn
