#include "tests/test_util.h"

#include "base/hash.h"


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
  auto md5 = HashFileHex(HashAlgo::kMd5, path);
  if (!md5.ok()) throw std::runtime_error(md5.status().message());
  return *md5;
}

}  // namespace torn::testing
