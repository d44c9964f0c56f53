#include "trace/trace_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "base/hash.h"
#include "trace/log.h"
#include "trace/zstd_file.h"

namespace torn::trace {
namespace fs = std::filesystem;

std::string TraceDirOf(const std::string& trace) {
  std::error_code ec;
  return fs::is_directory(trace, ec) ? trace : std::string();
}

Result<nlohmann::json> ReadDescription(const std::string& trace) {
  std::string dir = TraceDirOf(trace);
  if (dir.empty()) return nlohmann::json::object();
  std::string path = dir + "/" + kDescriptionFile;
  std::ifstream in(path);
  if (!in) return BadInput(dir + ": not a trace directory (no " + kDescriptionFile + ")");
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return BadInput(path + ": not valid JSON");
  return j;
}

Result<std::string> ResolveLogPath(const std::string& trace) {
  std::error_code ec;
  if (!fs::exists(trace, ec)) return BadInput(trace + ": no such file or directory");
  if (!fs::is_directory(trace, ec)) return trace;
  TORN_ASSIGN_OR_RETURN(nlohmann::json desc, ReadDescription(trace));
  std::string log = desc.value("log", std::string(kLogFile));
  if (log.find('/') != std::string::npos) return BadInput(trace + "/trace.json: \"log\" must be a file name");
  std::string path = trace + "/" + log;
  if (!fs::exists(path, ec)) return BadInput(trace + ": trace.json names log " + log + ", which is missing");
  return path;
}

Status WriteTraceDir(const Log& log, const std::string& dir, const nlohmann::json& source,
                     bool overwrite) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("create " + dir + ": " + ec.message());
  std::string desc_path = dir + "/" + kDescriptionFile;
  if (!overwrite && fs::exists(desc_path, ec)) {
    return BadInput(dir + ": already holds a trace (" + kDescriptionFile + "); choose another --out");
  }
  if (log.fd() < 0) return Internal("WriteTraceDir: log has no file");
  std::string tmp_log = dir + "/." + kLogFile + ".tmp";
  TORN_RETURN_IF_ERROR(CompressFile(log.fd(), tmp_log).with_context(dir));
  fs::rename(tmp_log, dir + "/" + kLogFile, ec);
  if (ec) return IoError("rename into " + dir + ": " + ec.message());

  TORN_ASSIGN_OR_RETURN(std::string sha, HashFdHex(HashAlgo::kSha256, log.fd(), log.file_bytes()));
  nlohmann::json desc = {
      {"format", "torn-trace"},
      {"version", 1},
      {"log", kLogFile},
      {"sectorsize", log.sectorsize()},
      {"entries", log.size()},
      {"log_bytes", log.file_bytes()},
      {"log_sha256", sha},
      {"device_bytes", source.value("device_bytes", uint64_t{0})},
      {"source", source},
  };
  std::string tmp_desc = desc_path + ".tmp";
  {
    std::ofstream out(tmp_desc);
    out << desc.dump(2) << "\n";
    if (!out) return IoError("write " + tmp_desc);
  }
  fs::rename(tmp_desc, desc_path, ec);
  if (ec) return IoError("rename " + tmp_desc + ": " + ec.message());
  return Status::Ok();
}

}  // namespace torn::trace
