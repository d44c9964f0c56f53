// A trace directory: what `torn record` and `torn import` write, and what every command that takes a
// TRACE accepts besides a bare log file.
//
//   DIR/trace.json         description: {"format": "torn-trace", "version": 1, "log": "log.zst",
//                          "sectorsize", "entries", "device_bytes", "log_sha256" (of the plain log),
//                          "source": {...how it was made: kernel, fs, options, workload, torn version,
//                          time...}}
//   DIR/log.zst            the dm-log-writes log, zstd-compressed
//   DIR/expectations.json  the manifests at marks (expectations.h), when the recorder made any
//   DIR/console.log        the lab VM's console, when recorded there
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace torn::trace {

class Log;

inline constexpr const char* kDescriptionFile = "trace.json";
inline constexpr const char* kLogFile = "log.zst";
inline constexpr const char* kExpectationsFile = "expectations.json";
inline constexpr const char* kConsoleFile = "console.log";

// The log file behind a TRACE argument: the path itself, or for a directory the log its trace.json
// names. Errors say what is missing.
Result<std::string> ResolveLogPath(const std::string& trace);
// The trace directory behind a TRACE argument, or empty for a bare log file.
std::string TraceDirOf(const std::string& trace);
// DIR/trace.json parsed, or an empty object for a bare log.
Result<nlohmann::json> ReadDescription(const std::string& trace);

// Writes DIR (created if needed) with the log compressed and a description; `source` is merged into
// the description's "source". Refuses to overwrite an existing trace.json unless `overwrite`.
Status WriteTraceDir(const Log& log, const std::string& dir, const nlohmann::json& source,
                     bool overwrite = false);

}  // namespace torn::trace
