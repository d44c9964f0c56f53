#include "workload/md5.h"

#include <gtest/gtest.h>

#include <string>

namespace torn::workload {
namespace {

std::string Hex(const std::string& s, size_t chunk = 1000) {
  Md5 m;
  for (size_t i = 0; i < s.size(); i += chunk) m.Update(s.data() + i, std::min(chunk, s.size() - i));
  return m.HexDigest();
}

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, ChunkingDoesNotMatter) {
  std::string s(10000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  std::string whole = Hex(s, s.size());
  for (size_t chunk : {1, 3, 63, 64, 65, 4096}) EXPECT_EQ(Hex(s, chunk), whole) << chunk;
  EXPECT_EQ(Hex(std::string(4096, '\0')), "620f0b67a91f7f74151bc5be745b7110");
}

}  // namespace
}  // namespace torn::workload
