#include "workload/op.h"

#include <gtest/gtest.h>

namespace torn::workload {
namespace {

constexpr const char* kAll =
    "creat f0\n"
    "write f0 0 4096\n"
    "pwrite f0 8192 100 direct sync\n"
    "pwrite f0 0 512 sync\n"
    "truncate f0 100\n"
    "falloc f0 0 4096 keep\n"
    "falloc f0 0 4096 punch\n"
    "falloc f0 0 4096 zero\n"
    "falloc f0 0 4096\n"
    "link f0 f1\n"
    "symlink f0 s0\n"
    "mkdir d0\n"
    "rename f0 d0/f1\n"
    "unlink f1\n"
    "rmdir d0\n"
    "setxattr f0 user.a v\n"
    "removexattr f0 user.a\n"
    "fsync f0\n"
    "fsync .\n"
    "fdatasync f0\n"
    "sync\n"
    "syncfs\n";

TEST(WorkloadOp, EveryOperationRoundTrips) {
  auto w = Parse(kAll);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->size(), 22u);
  EXPECT_EQ(Print(*w), kAll);
  auto again = Parse(Print(*w));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *w);
  EXPECT_EQ((*w)[2].offset, 8192u);
  EXPECT_TRUE((*w)[2].direct && (*w)[2].sync);
  EXPECT_EQ((*w)[6].falloc, FallocMode::kPunchHole);
  EXPECT_EQ((*w)[12].path2, "d0/f1");
  EXPECT_EQ((*w)[15].value, "v");
}

TEST(WorkloadOp, CommentsBlanksAndSpacingAreCanonicalized) {
  auto w = Parse("# a comment\n\n  write\tf0  0 10  \r\nsync\n");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(Print(*w), "write f0 0 10\nsync\n");
}

TEST(WorkloadOp, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"creat f0\nfrob f0\n", "line 2: unknown operation 'frob'"},
      {"write f0 0\n", "line 1: write: expected PATH OFF LEN"},
      {"write f0 x 10\n", "line 1: write: bad offset 'x'"},
      {"write f0 0 0\n", "line 1: write: bad length '0'"},
      {"write f0 0 99999999999999\n", "line 1: write: bad length"},
      {"creat ../f0\n", "line 1: creat: bad path '../f0'"},
      {"creat /f0\n", "line 1: creat: bad path '/f0'"},
      {"creat .\n", "line 1: creat: bad path '.'"},
      {"creat a//b\n", "line 1: creat: bad path 'a//b'"},
      {"creat f$\n", "line 1: creat: bad path 'f$'"},
      {"\n\npwrite f0 0 1 fast\n", "line 3: pwrite: unknown flag 'fast'"},
      {"pwrite f0 0 1 sync sync\n", "line 1: pwrite: unknown flag 'sync'"},
      {"falloc f0 0 1 keep punch\n", "line 1: falloc: expected PATH OFF LEN [keep|punch|zero]"},
      {"sync now\n", "line 1: sync: expected no arguments"},
      {"setxattr f0 a v\n", "line 1: setxattr: bad xattr name 'a'"},
      {"rename f0\n", "line 1: rename: expected PATH NEW"},
  };
  for (const auto& c : cases) {
    auto w = Parse(c.text);
    ASSERT_FALSE(w.ok()) << c.text;
    EXPECT_NE(w.status().message().find(c.error), std::string::npos)
        << c.text << " gave: " << w.status().message();
  }
}

TEST(WorkloadOp, PersistenceAndMarks) {
  auto w = Parse("write f0 0 1\npwrite f0 0 1\npwrite f0 0 1 direct\nfsync f0\nsync\n");
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(IsPersistence((*w)[0]));
  EXPECT_FALSE(IsPersistence((*w)[1]));
  EXPECT_TRUE(IsPersistence((*w)[2]));
  EXPECT_TRUE(IsPersistence((*w)[3]));
  EXPECT_EQ(MarkName(3, (*w)[3]), "op4-fsync");
  for (size_t k = 0; k < 300; ++k) EXPECT_NE(DataByte(k, k * 512), 0);
}

// Every prefix of a valid text parses or fails with a line number, never crashes.
TEST(WorkloadOp, TruncatedTextNeverCrashes) {
  std::string all = kAll;
  for (size_t n = 0; n <= all.size(); ++n) {
    auto w = Parse(all.substr(0, n));
    if (!w.ok()) {
      EXPECT_EQ(w.status().message().rfind("line ", 0), 0u) << n;
    }
  }
}

}  // namespace
}  // namespace torn::workload
