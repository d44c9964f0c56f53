#include "workload/runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "workload/md5.h"

namespace torn::workload {
namespace {

using Kind = Promise::Kind;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/torn-runner-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Runs the text's ops in order, returning the promise set after each.
  std::vector<PromiseSet> Run(const std::string& text) {
    auto w = Parse(text);
    EXPECT_TRUE(w.ok()) << w.status().message();
    std::vector<PromiseSet> out;
    if (!w.ok()) return out;
    runner_ = std::make_unique<Runner>(root_);
    for (size_t i = 0; i < w->size(); ++i) {
      EXPECT_EQ(runner_->Execute(i, (*w)[i]), "") << PrintOp((*w)[i]);
      out.push_back(runner_->promises());
    }
    return out;
  }

  std::string root_;
  std::unique_ptr<Runner> runner_;
};

std::string Md5Of(size_t op_index, uint64_t offset, uint64_t len, uint64_t size) {
  std::string bytes(size, '\0');
  for (uint64_t i = 0; i < len; ++i) bytes[offset + i] = static_cast<char>(DataByte(op_index, offset + i));
  Md5 m;
  m.Update(bytes.data(), bytes.size());
  return m.HexDigest();
}

TEST_F(RunnerTest, FsyncPromisesTheFileAndWritesDowngradeIt) {
  auto s = Run("mkdir d0\ncreat d0/f0\nwrite d0/f0 100 1000\nfsync d0/f0\nwrite d0/f0 0 10\nfsync d0/f0\n");
  ASSERT_EQ(s.size(), 6u);
  EXPECT_TRUE(s[2].empty());
  ASSERT_EQ(s[3].size(), 2u);
  EXPECT_EQ(s[3].at("d0").kind, Kind::kDir);
  const Promise& f = s[3].at("d0/f0");
  EXPECT_EQ(f.kind, Kind::kContent);
  EXPECT_EQ(f.size, 1100u);
  EXPECT_EQ(f.md5, Md5Of(2, 100, 1000, 1100));
  EXPECT_EQ(s[4].at("d0/f0").kind, Kind::kExists);  // rule 1
  EXPECT_EQ(s[5].at("d0/f0").kind, Kind::kContent);
  EXPECT_NE(s[5].at("d0/f0").md5, f.md5);
}

TEST_F(RunnerTest, HardLinksShareTheDowngrade) {
  auto s = Run("creat f0\nlink f0 f1\nsync\ntruncate f1 7\n");
  EXPECT_EQ(s[2].at("f0").kind, Kind::kContent);
  EXPECT_EQ(s[2].at("f1").kind, Kind::kContent);
  EXPECT_EQ(s[3].at("f0").kind, Kind::kExists);
  EXPECT_EQ(s[3].at("f1").kind, Kind::kExists);
}

TEST_F(RunnerTest, DirectoryFsyncPromisesEntriesNotContent) {
  auto s = Run("mkdir d0\ncreat d0/a\nwrite d0/a 0 10\nmkdir d0/sub\nsymlink a d0/s\nfsync d0\n");
  const auto& p = s.back();
  EXPECT_EQ(p.at("d0").kind, Kind::kDir);
  EXPECT_EQ(p.at("d0/a").kind, Kind::kExists);
  EXPECT_EQ(p.at("d0/sub").kind, Kind::kDir);
  EXPECT_EQ(p.count("d0/s"), 0u);
  std::string lines = ManifestLines("op6-fsync", p);
  EXPECT_EQ(lines,
            "TORN-MANIFEST op6-fsync D .\n"
            "TORN-MANIFEST op6-fsync D ./d0\n"
            "TORN-MANIFEST op6-fsync E ./d0/a\n"
            "TORN-MANIFEST op6-fsync D ./d0/sub\n"
            "TORN-MANIFEST-END op6-fsync\n");
}

TEST_F(RunnerTest, RenameAndUnlinkDropNamesSyncPromisesTheTree) {
  auto s = Run("mkdir d0\ncreat d0/a\ncreat b\nsync\nrename d0 d1\nunlink b\nsyncfs\n");
  EXPECT_EQ(s[3].size(), 3u);
  EXPECT_EQ(s[4].size(), 1u);  // d0 and d0/a dropped
  EXPECT_EQ(s[4].count("b"), 1u);
  EXPECT_TRUE(s[5].empty());
  EXPECT_EQ(s[6].size(), 2u);
  EXPECT_EQ(s[6].at("d1/a").kind, Kind::kContent);
  EXPECT_EQ(s[6].at("d1/a").md5, "d41d8cd98f00b204e9800998ecf8427e");
}

TEST_F(RunnerTest, OsyncPwriteKeepsAPromiseOnlyWhenThereWasOne) {
  auto s = Run("creat f0\npwrite f0 0 512 sync\nfsync f0\npwrite f0 512 512 sync\ntruncate f0 0\n");
  EXPECT_TRUE(s[1].empty());
  EXPECT_EQ(s[3].at("f0").kind, Kind::kContent);
  EXPECT_EQ(s[3].at("f0").size, 1024u);
  EXPECT_EQ(s[4].at("f0").kind, Kind::kExists);
}

TEST_F(RunnerTest, FallocAndXattrs) {
  auto s = Run("creat f0\nwrite f0 0 8192\nfsync f0\nsetxattr f0 user.a v\nremovexattr f0 user.a\n"
               "falloc f0 0 4096 punch\nfalloc f0 8192 4096 keep\nfalloc f0 8192 100\nfdatasync f0\n");
  EXPECT_EQ(s[4].at("f0").kind, Kind::kContent);  // xattrs do not touch the bytes
  EXPECT_EQ(s[5].at("f0").kind, Kind::kExists);
  EXPECT_EQ(s[8].at("f0").size, 8292u);
}

// Rule 3: fsync(2) promises a file's name only when it is new; a renamed or linked name needs an
// fsync of its directory.
TEST_F(RunnerTest, FsyncPromisesOnlyNewOrDurableNames) {
  auto s = Run("creat f0\nsync\nrename f0 f2\nfdatasync f2\nfsync f2\nlink f2 f3\nfsync f3\nfsync .\nfsync f3\n");
  EXPECT_EQ(s[1].count("f0"), 1u);
  EXPECT_TRUE(s[3].empty());
  EXPECT_TRUE(s[4].empty());
  EXPECT_TRUE(s[6].empty());
  EXPECT_EQ(s[7].at("f3").kind, Kind::kExists);
  EXPECT_EQ(s[8].at("f3").kind, Kind::kContent);
  EXPECT_EQ(s[8].at("f2").kind, Kind::kExists);
}

// Rule 2: a rename over a promised file keeps its name promised, with the old or the new content.
TEST_F(RunnerTest, RenameOverAPromisedFileIsEitherContent) {
  auto s = Run("creat f0\nwrite f0 0 100\ncreat f1\nwrite f1 0 200\nsync\nrename f0 f1\nfsync f1\n"
               "creat f2\nrename f2 f1\nwrite f1 0 10\nfsync .\nfsync f1\n");
  const Promise& e = s[5].at("f1");
  EXPECT_EQ(e.kind, Kind::kEither);
  EXPECT_EQ(e.size, 200u);
  EXPECT_EQ(e.size2, 100u);
  EXPECT_EQ(s[5].count("f0"), 0u);
  EXPECT_NE(ManifestLines("m", s[5]).find("TORN-MANIFEST m O 200 " + s[4].at("f1").md5 + " 100 " +
                                          s[4].at("f0").md5 + " ./f1\n"),
            std::string::npos);
  EXPECT_EQ(s[6].at("f1"), e);  // fsync of the file does not promise which file the name holds
  EXPECT_EQ(s[8].at("f1").kind, Kind::kExists);  // f2's content was never promised
  EXPECT_EQ(s[9].at("f1").kind, Kind::kExists);
  EXPECT_FALSE(s[9].at("f1").bound);
  EXPECT_TRUE(s[10].at("f1").bound);  // fsync of the directory binds the name
  EXPECT_EQ(s[11].at("f1").kind, Kind::kContent);
}

TEST_F(RunnerTest, FailedOperationsSayWhat) {
  Runner r(root_);
  auto w = Parse("rmdir nothere\n");
  ASSERT_TRUE(w.ok());
  std::string err = r.Execute(0, (*w)[0]);
  EXPECT_NE(err.find("rmdir nothere: No such file or directory"), std::string::npos) << err;
}

}  // namespace
}  // namespace torn::workload
