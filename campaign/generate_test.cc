#include "campaign/generate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "workload/op.h"
#include "workload/runner.h"

namespace torn::campaign {
namespace {

TEST(Generate, DeterministicDistinctAndParsable) {
  auto one = GenerateWorkloads({.max_length = 1});
  auto two = GenerateWorkloads({.max_length = 2});
  EXPECT_GT(one.size(), 100u);
  EXPECT_GT(two.size(), one.size() * 50);
  EXPECT_EQ(two, GenerateWorkloads({.max_length = 2}));
  // Length 1 comes first, so numbers stay put when the bound grows.
  EXPECT_TRUE(std::equal(one.begin(), one.end(), two.begin()));
  EXPECT_EQ(std::set<std::string>(two.begin(), two.end()).size(), two.size());
  for (const auto& w : two) {
    auto p = workload::Parse(w);
    ASSERT_TRUE(p.ok()) << w;
    EXPECT_EQ(workload::Print(*p), w);
    EXPECT_TRUE(workload::IsPersistence(p->back())) << w;
  }
  std::cerr << one.size() << " workloads of 1 step, " << two.size() << " of 1 or 2\n";
}

// Every generated operation succeeds when run for real (a sample of every 37th 2-step workload).
TEST(Generate, WorkloadsRunWithoutFailures) {
  auto all = GenerateWorkloads({.max_length = 2});
  for (size_t i = 0; i < all.size(); i += 37) {
    char tmpl[] = "/tmp/torn-gen-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    auto w = workload::Parse(all[i]);
    ASSERT_TRUE(w.ok());
    workload::Runner r(tmpl);
    for (size_t k = 0; k < w->size(); ++k) {
      std::string err = r.Execute(k, (*w)[k]);
      // O_DIRECT is refused by tmpfs; that is the host's /tmp, not the generator.
      if (err.find("Invalid argument") != std::string::npos && (*w)[k].direct) continue;
      EXPECT_EQ(err, "") << "workload " << i << ":\n" << all[i];
    }
    std::filesystem::remove_all(tmpl);
  }
}

TEST(Generate, StepsNameTheOperations) {
  std::string w = std::string(kSetup) + "rename f0 d0/f1\nfsync d0\nwrite d0/f1 0 4096\nfdatasync d0/f1\n";
  EXPECT_EQ(StepsOf(w), "rename+fsync-dir, write+fdatasync");
}

}  // namespace
}  // namespace torn::campaign
