#include "base/hash.h"

#include <gtest/gtest.h>

#include "base/temp_file.h"

namespace torn {
namespace {

// Reference digests of "abc" from RFC 1321 and FIPS 180-2.
TEST(Hash, KnownDigests) {
  EXPECT_EQ(HashHex(HashAlgo::kMd5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HashHex(HashAlgo::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, FdAndStreamingAgree) {
  auto f = TempFile::Create("torn-hash-");
  ASSERT_TRUE(f.ok());
  std::string data(3 << 20, 'x');  // more than one read buffer
  ASSERT_TRUE(WriteFull(f->fd(), std::as_bytes(std::span(data))).ok());
  auto a = HashFileHex(HashAlgo::kMd5, f->path());
  ASSERT_TRUE(a.ok());
  Hasher h(HashAlgo::kMd5);
  h.Update(std::string_view(data).substr(0, 1000));
  h.Update(std::string_view(data).substr(1000));
  EXPECT_EQ(*a, h.HexDigest());
  EXPECT_EQ(*a, HashHex(HashAlgo::kMd5, data));
}

}  // namespace
}  // namespace torn
