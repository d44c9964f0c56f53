#include "base/hash.h"

#include <fcntl.h>
#include <openssl/evp.h>

#include <vector>

#include "base/fd.h"

namespace torn {

struct Hasher::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Hasher::Hasher(HashAlgo algo) : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md, algo == HashAlgo::kMd5 ? EVP_md5() : EVP_sha256(), nullptr);
}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::span<const std::byte> data) {
  EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}
void Hasher::Update(std::string_view data) { EVP_DigestUpdate(ctx_->md, data.data(), data.size()); }

std::string Hasher::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_->md, md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

std::string HashHex(HashAlgo algo, std::string_view data) {
  Hasher h(algo);
  h.Update(data);
  return h.HexDigest();
}

Result<std::string> HashFdHex(HashAlgo algo, int fd, uint64_t bytes) {
  Hasher h(algo);
  std::vector<std::byte> buf(1 << 20);
  for (uint64_t off = 0; off < bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), bytes - off));
    TORN_RETURN_IF_ERROR(PreadFull(fd, std::span(buf.data(), n), off));
    h.Update(std::span(buf.data(), n));
    off += n;
  }
  return h.HexDigest();
}

Result<std::string> HashFileHex(HashAlgo algo, const std::string& path) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  TORN_ASSIGN_OR_RETURN(uint64_t size, FileSize(fd.get()));
  auto r = HashFdHex(algo, fd.get(), size);
  if (!r.ok()) return r.status().with_context(path);
  return r;
}

}  // namespace torn
