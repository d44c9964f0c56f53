#include "checker/shard.h"

#include <gtest/gtest.h>

namespace torn::checker {
namespace {

TEST(Shard, ParsesKOfN) {
  auto s = ParseShard("2/8");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 8u);
  EXPECT_EQ(s->str(), "2/8");
  EXPECT_TRUE(ParseShard("1/1")->whole());
  for (const char* bad : {"", "2", "0/2", "3/2", "1/0", "a/2", "1/2x", "-1/2", "1//2", "1/ 2"})
    EXPECT_FALSE(ParseShard(bad).ok()) << bad;
  EXPECT_NE(ParseShard("3/2").status().message().find("between 1 and N"), std::string::npos);
}

// The split's rule: every group in exactly one shard, and Share counts what Holds holds.
TEST(Shard, DisjointPartsWhoseUnionIsTheWhole) {
  for (uint32_t n = 1; n <= 7; ++n) {
    for (uint64_t first = 0; first < 20; ++first) {
      for (uint64_t len = 0; len < 30; ++len) {
        uint64_t total = 0;
        for (uint32_t k = 1; k <= n; ++k) {
          Shard s{k, n};
          uint64_t held = 0;
          for (uint64_t g = first; g < first + len; ++g) held += s.Holds(g);
          EXPECT_EQ(s.Share(first, len), held) << k << "/" << n << " [" << first << "," << first + len << ")";
          total += held;
        }
        EXPECT_EQ(total, len);
      }
    }
    for (uint64_t g = 0; g < 100; ++g) {
      int holders = 0;
      for (uint32_t k = 1; k <= n; ++k) holders += Shard{k, n}.Holds(g);
      EXPECT_EQ(holders, 1);
    }
  }
}

}  // namespace
}  // namespace torn::checker
