#include "recorder/guest_report.h"

#include <set>

#include "lab/report_line.h"

namespace torn::recorder {
namespace {

std::optional<std::string> RelativePath(std::string_view p) {
  if (p == ".") return std::string(".");
  if (!p.starts_with("./") || p.size() == 2) return std::nullopt;
  return std::string(p.substr(2));
}

bool IsMd5(std::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

Result<GuestReport> ParseGuestReport(std::string_view text) {
  GuestReport r;
  std::set<std::string> open, closed;
  size_t line_no = 0;
  while (!text.empty()) {
    std::string_view line = lab::NextLine(text);
    ++line_no;
    auto bad = [&](const std::string& why) {
      return BadInput("guest report line " + std::to_string(line_no) + ": " + why + ": " + std::string(line));
    };
    std::string_view rest = line;
    std::string_view tag = lab::NextWord(rest);
    if (tag == "TORN-MARK") {
      if (rest.empty()) return bad("mark without a name");
      r.marks.emplace_back(rest);
    } else if (tag == "TORN-WORKLOAD-EXIT") {
      auto n = lab::WholeNumber<uint64_t>(rest);
      if (!n) return bad("bad status");
      r.workload_exit = static_cast<int>(*n);
    } else if (tag == "TORN-MANIFEST-END") {
      std::string name(rest);
      if (!open.erase(name)) return bad("end of a manifest that never started");
      closed.insert(name);
    } else if (tag == "TORN-MANIFEST") {
      std::string name(lab::NextWord(rest));
      if (closed.count(name)) return bad("manifest " + name + " sent twice");
      open.insert(name);
      trace::Manifest& m = r.manifests[name];
      std::string_view kind = lab::NextWord(rest);
      if (kind == "D") {
        auto p = RelativePath(rest);
        if (!p) return bad("bad directory path");
        m.dirs.push_back(*p);
      } else if (kind == "F") {
        auto size = lab::WholeNumber<uint64_t>(lab::NextWord(rest));
        std::string_view md5 = lab::NextWord(rest);
        auto p = RelativePath(rest);
        if (!size || !IsMd5(md5) || !p || *p == ".") return bad("bad file line");
        m.files.push_back({*p, *size, std::string(md5)});
      } else if (kind == "O") {
        auto size = lab::WholeNumber<uint64_t>(lab::NextWord(rest));
        std::string_view md5 = lab::NextWord(rest);
        auto size2 = lab::WholeNumber<uint64_t>(lab::NextWord(rest));
        std::string_view md5_2 = lab::NextWord(rest);
        auto p = RelativePath(rest);
        if (!size || !IsMd5(md5) || !size2 || !IsMd5(md5_2) || !p || *p == ".") return bad("bad file line");
        trace::FileExpectation fe{*p, *size, std::string(md5)};
        fe.alternatives.emplace_back(*size2, std::string(md5_2));
        m.files.push_back(std::move(fe));
      } else if (kind == "P") {
        if (!rest.empty()) return bad("bad partial line");
        m.partial = true;
      } else if (kind == "E") {
        auto p = RelativePath(rest);
        if (!p || *p == ".") return bad("bad file line");
        m.files.push_back({*p, 0, "", true});
      } else {
        return bad("unknown manifest entry");
      }
    }
  }
  if (!open.empty()) return BadInput("guest report: manifest " + *open.begin() + " has no end (cut short)");
  return r;
}

}  // namespace torn::recorder
