// torn import LOG --out DIR: a bare log (raw, zstd or a block device) becomes a trace directory, after
// the whole log has been checked.
#include <fmt/core.h>

#include <fstream>

#include <chrono>
#include <ctime>

#include "cli/command.h"
#include "trace/expectations.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::cli {

int RunImport(std::vector<std::string> args) {
  CLI::App app{"Check a dm-log-writes log and store it as a trace directory: DIR/log.zst (compressed),\n"
               "DIR/trace.json (description) and, with --expect, DIR/expectations.json.",
               "torn import"};
  std::string log_path, out, expect;
  uint64_t device_size = 0;
  bool overwrite = false;
  app.add_option("LOG", log_path, "log file (raw or zstd) or block device")->required();
  app.add_option("--out", out, "trace directory to create")->required();
  app.add_option("--expect", expect, "manifest file (JSON, by mark) to store as the expectations");
  app.add_option("--device-size", device_size, "size of the logged device in bytes, if known");
  app.add_flag("--overwrite", overwrite, "replace a trace already in DIR");
  app.footer("\nExample:\n  torn import /dev/vdb --out traces/my-run --expect manifests.json");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  auto log = trace::Log::Open(log_path, {.device_bytes = device_size});
  if (!log.ok()) return ReportError(log.status());
  trace::Expectations expectations;
  if (!expect.empty()) {
    auto e = trace::ReadExpectations(expect);
    if (!e.ok()) return ReportError(e.status());
    expectations = std::move(e).value();
  }
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json source = {{"how", "import"},
                           {"from", log_path},
                           {"torn_version", TORN_VERSION},
                           {"time", when},
                           {"device_bytes", device_size}};
  if (Status st = trace::WriteTraceDir(*log, out, source, overwrite); !st.ok()) return ReportError(st);
  if (!expect.empty()) {
    std::ofstream f(out + "/" + trace::kExpectationsFile);
    f << trace::ExpectationsToJson(expectations).dump(2) << "\n";
    if (!f) return ReportError(IoError("write " + out + "/" + trace::kExpectationsFile));
  }
  fmt::print("imported {} entries ({} marks) from {} into {}\n", log->size(), log->marks().size(),
             log_path, out);
  return kExitOk;
}

}  // namespace torn::cli
