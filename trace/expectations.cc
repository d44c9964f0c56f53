#include "trace/expectations.h"

#include <fstream>

namespace torn::trace {

Result<Expectations> ParseExpectations(const nlohmann::json& j, const std::string& name) {
  if (!j.is_object()) return BadInput(name + ": expected a JSON object keyed by mark name");
  Expectations out;
  for (const auto& [mark, m] : j.items()) {
    std::string where = name + ": mark " + mark;
    if (!m.is_object()) return BadInput(where + ": expected an object with \"files\" and \"dirs\"");
    Manifest man;
    for (const auto& f : m.value("files", nlohmann::json::array())) {
      if (f.is_object() && f.contains("content")) {
        if (f["content"] != "any" || !f.contains("path") || !f["path"].is_string())
          return BadInput(where + ": a file with \"content\" needs \"path\" (string) and \"content\": \"any\"");
        man.files.push_back({f["path"], 0, "", true});
        continue;
      }
      if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
          !f["size"].is_number_unsigned() || !f.contains("md5") || !f["md5"].is_string()) {
        return BadInput(where + ": each file needs \"path\" (string), \"size\" (number), \"md5\" (string)");
      }
      FileExpectation fe{f["path"], f["size"], f["md5"]};
      for (const auto& a : f.value("or", nlohmann::json::array())) {
        if (!a.is_object() || !a.contains("size") || !a["size"].is_number_unsigned() || !a.contains("md5") ||
            !a["md5"].is_string())
          return BadInput(where + ": each \"or\" of a file needs \"size\" (number) and \"md5\" (string)");
        fe.alternatives.emplace_back(a["size"].get<uint64_t>(), a["md5"].get<std::string>());
      }
      man.files.push_back(std::move(fe));
    }
    for (const auto& d : m.value("dirs", nlohmann::json::array())) {
      if (!d.is_string()) return BadInput(where + ": \"dirs\" must hold strings");
      man.dirs.push_back(d);
    }
    if (m.contains("partial")) {
      if (!m["partial"].is_boolean()) return BadInput(where + ": \"partial\" must be true or false");
      man.partial = m["partial"].get<bool>();
    }
    out[mark] = std::move(man);
  }
  return out;
}

Result<Expectations> ReadExpectations(const std::string& path) {
  std::ifstream in(path);
  if (!in) return BadInput(path + ": cannot open expectations file");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return BadInput(path + ": not valid JSON");
  return ParseExpectations(j, path);
}

nlohmann::json ExpectationsToJson(const Expectations& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [mark, m] : e) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.files) {
      if (f.any_content) files.push_back({{"path", f.path}, {"content", "any"}});
      else files.push_back({{"path", f.path}, {"size", f.size}, {"md5", f.md5}});
      if (!f.alternatives.empty()) {
        nlohmann::json alts = nlohmann::json::array();
        for (const auto& [s, m] : f.alternatives) alts.push_back({{"size", s}, {"md5", m}});
        files.back()["or"] = alts;
      }
    }
    j[mark] = {{"files", files}, {"dirs", m.dirs}};
    if (m.partial) j[mark]["partial"] = true;
  }
  return j;
}

}  // namespace torn::trace
