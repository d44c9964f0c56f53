// Expectations: the manifests a recorder saved at marks (DESIGN.md), one JSON file per trace:
//   {"MARK": {"files": [{"path": "p/one", "size": 6, "md5": "..."}], "dirs": ["p", "p/q"]}}
// Paths are relative to the file system's root, without a leading slash. A file entry may instead be
// {"path": "p/one", "content": "any"}: its name must exist as a regular file, its bytes are not
// promised (torn fuzz: an entry of an fsynced directory, docs/fuzz.md). A file entry may carry
// "or": [{"size": 4, "md5": "..."}]: the file must hold one of the contents (rename atomicity: the
// target holds the old file or the new one). A manifest may carry "partial": true: it promises the files it
// lists and says nothing about other paths (torn gate's fsync promises, docs/gate.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace torn::trace {

struct FileExpectation {
  std::string path;
  uint64_t size = 0;
  std::string md5;  // lowercase hex
  bool any_content = false;  // only the name is expected (size 0, md5 empty)
  std::vector<std::pair<uint64_t, std::string>> alternatives;  // other (size, md5) it may hold
  bool Holds(uint64_t s, const std::string& m) const {
    if (any_content || (s == size && m == md5)) return true;
    for (const auto& [as, am] : alternatives)
      if (s == as && m == am) return true;
    return false;
  }
  bool operator==(const FileExpectation&) const = default;
};

struct Manifest {
  std::vector<FileExpectation> files;
  std::vector<std::string> dirs;
  // Only what one fsync or fdatasync promised: the files listed, nothing about any other path or
  // directory (JSON "partial": true; oracles/data.h says how the data oracle reads it).
  bool partial = false;
};

using Expectations = std::map<std::string, Manifest>;  // by mark name

Result<Expectations> ParseExpectations(const nlohmann::json& j, const std::string& name);
Result<Expectations> ReadExpectations(const std::string& path);
nlohmann::json ExpectationsToJson(const Expectations& e);

}  // namespace torn::trace
