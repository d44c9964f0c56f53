#include "base/file_io.h"

#include <fcntl.h>
#include <sys/file.h>

#include <gtest/gtest.h>

#include "base/temp_file.h"

namespace torn {
namespace {

TEST(FileIo, WriteThenReadBack) {
  auto dir = TempDir::Create("torn-fileio-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, std::string("a\0b", 3)).ok());
  auto got = ReadFileToString(path);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("a\0b", 3));
  ASSERT_TRUE(WriteFileAtomic(path, "second").ok());
  EXPECT_EQ(*ReadFileToString(path), "second");
}

TEST(FileIo, MissingFileNamesThePath) {
  auto got = ReadFileToString("/nonexistent/torn-file");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("/nonexistent/torn-file"), std::string::npos);
}

TEST(FileIo, LockIsExclusiveAcrossOpens) {
  auto dir = TempDir::Create("torn-lock-");
  ASSERT_TRUE(dir.ok());
  auto lock = FileLock::Acquire(dir->path() + "/lock");
  ASSERT_TRUE(lock.ok());
  // A second, non-blocking attempt through another open file description must fail while we hold it.
  auto fd = OpenFile(dir->path() + "/lock", O_RDWR);
  ASSERT_TRUE(fd.ok());
  EXPECT_NE(::flock(fd->get(), LOCK_EX | LOCK_NB), 0);
}

}  // namespace
}  // namespace torn
