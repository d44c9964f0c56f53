// MD5 (RFC 1321), small and dependency-free, for the static guest runner: the manifests' "md5" is what
// the data oracle compares (oracles/data.h). Not for security.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace torn::workload {

class Md5 {
 public:
  Md5();
  void Update(const void* data, size_t n);
  std::string HexDigest();  // ends the hash; lowercase hex

 private:
  void Block(const uint8_t* p);
  uint32_t h_[4];
  uint64_t bytes_ = 0;
  uint8_t buf_[64];
  size_t used_ = 0;
};

}  // namespace torn::workload
