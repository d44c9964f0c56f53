// Helpers for the end-to-end tests: run the real torn binary, hash files, find the golden samples.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/subprocess.h"

namespace torn::testing {

// The samples recorded on a real kernel (tests/samples, copied from ../shared/samples).
std::string SamplesDir();
std::vector<std::string> SampleNames();  // "ext4-512", "ext4-4k"
nlohmann::json SampleFacts(const std::string& sample);
std::string SampleLog(const std::string& sample);  // the .zst log

// Runs `torn ARGS...` and returns how it ended with its merged output.
RunResult RunTorn(const std::vector<std::string>& args, int timeout_seconds = 300);

std::string Md5OfFile(const std::string& path);

}  // namespace torn::testing
