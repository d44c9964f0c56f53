#include "campaign/record_batch.h"

#include <gtest/gtest.h>

#include "base/temp_file.h"
#include "trace/expectations.h"
#include "trace/log.h"
#include "trace/log_builder.h"
#include "trace/log_format.h"

namespace torn::campaign {
namespace {

TEST(LogLength, CutsAtTheLastEntryAndRejectsDamage) {
  trace::LogBuilder b(512);
  b.Write(0, 2, 1).Flush().Mark("mkfs").Discard(100, 8).Write(8, 1, 2, trace::kFlagFua);
  auto bytes = b.Build();
  std::string log(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string slot = log + std::string(1 << 20, '\0');
  auto n = LogLength(slot);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, log.size());
  for (size_t cut : {size_t{0}, size_t{20}, log.size() - 1}) {
    auto t = LogLength(std::string_view(log).substr(0, cut));
    EXPECT_FALSE(t.ok()) << cut;
  }
  std::string bad = slot;
  bad[0] ^= 1;
  EXPECT_EQ(LogLength(bad).status().code(), Code::kBadInput);
}

}  // namespace
}  // namespace torn::campaign
