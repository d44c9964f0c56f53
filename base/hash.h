// Cryptographic digests as lowercase hex, through OpenSSL: md5 (the manifests' file digests, the
// samples' image digests) and sha256 (trace and initramfs identities). One streaming Hasher, and the
// two helpers every caller needs: a digest of bytes, and of the first `bytes` of an fd.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace torn {

enum class HashAlgo { kMd5, kSha256 };

class Hasher {
 public:
  explicit Hasher(HashAlgo algo);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::span<const std::byte> data);
  void Update(std::string_view data);
  std::string HexDigest();  // ends the hash

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string HashHex(HashAlgo algo, std::string_view data);
// The digest of bytes [0, bytes) of fd, read with pread (the fd's offset is not moved).
Result<std::string> HashFdHex(HashAlgo algo, int fd, uint64_t bytes);
// The digest of a whole file.
Result<std::string> HashFileHex(HashAlgo algo, const std::string& path);

}  // namespace torn
