#include "tests/test_util.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace torn::testing {

std::string SamplesDir() { return std::string(TORN_SOURCE_DIR) + "/tests/samples"; }
std::vector<std::string> SampleNames() { return {"ext4-512", "ext4-4k"}; }

nlohmann::json SampleFacts(const std::string& sample) {
  std::ifstream in(SamplesDir() + "/" + sample + "/facts.json");
  if (!in) throw std::runtime_error("missing facts.json for " + sample);
  return nlohmann::json::parse(in);
}

std::string SampleLog(const std::string& sample) { return SamplesDir() + "/" + sample + "/log.img.zst"; }

RunResult RunTorn(const std::vector<std::string>& args, int timeout_seconds) {
  SpawnOptions o;
  o.argv = {TORN_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.timeout = std::chrono::seconds(timeout_seconds);
  auto r = RunChild(o);
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(r).value();
}

std::string Md5OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

}  // namespace torn::testing
