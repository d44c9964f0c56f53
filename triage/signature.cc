#include "triage/signature.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>

#include "oracles/fsck.h"

namespace torn::triage {
namespace {

using oracles::Oracle;

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Join(const std::set<std::string>& parts, std::string_view sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : std::string(sep)) + p;
  return s;
}

// How an e2fsck step ended, from its exit line ("exit 4: errors left uncorrected", "e2fsck hung
// (killed after 60 s)"), without numbers.
std::string ExitKind(std::string_view exit) {
  if (StartsWith(exit, "exit ")) {
    size_t colon = exit.find(": ");
    return colon == std::string_view::npos ? StripNumbers(exit) : std::string(exit.substr(colon + 2));
  }
  if (StartsWith(exit, "e2fsck hung")) return "hung";
  if (StartsWith(exit, "e2fsck crashed")) return "crashed";
  return StripNumbers(exit);
}

// "p/one: missing (File not found by ext2_lookup)" -> "p/one missing".
std::string DataFinding(std::string_view line) {
  size_t colon = line.find(": ");
  if (colon == std::string_view::npos) return StripNumbers(line);
  std::string path(line.substr(0, colon));
  std::string_view what = line.substr(colon + 2);
  if (what.ends_with("expected a directory"))
    return path + (StartsWith(what, "missing") ? " missing" : " not a directory");
  if (StartsWith(what, "missing")) return path + " missing";
  if (StartsWith(what, "unreadable")) return path + " unreadable";
  if (StartsWith(what, "size ")) return path + " other bytes";
  if (StartsWith(what, "a directory") || StartsWith(what, "not a regular file")) return path + " not a regular file";
  return path + " " + StripNumbers(what);
}

std::string DataSignature(const oracles::Verdict& v) {
  std::string rule;
  std::set<std::string> findings;
  for (std::string_view line : Lines(v.output)) {
    if (StartsWith(line, "rule: ")) {
      static const std::regex kExact("^rule: the state at mark '(.*)' \\(");
      static const std::regex kStable("^rule: stable between marks '(.*)' and '(.*)' \\(");
      std::string l(line);
      std::smatch m;
      if (std::regex_search(l, m, kExact)) rule = fmt::format("at mark '{}'", m[1].str());
      else if (std::regex_search(l, m, kStable)) rule = fmt::format("stable '{}'..'{}'", m[1].str(), m[2].str());
      else rule = StripNumbers(line.substr(6));
      continue;
    }
    if (line.empty() || StartsWith(line, "cannot read the file system")) continue;
    findings.insert(DataFinding(line));
  }
  if (StartsWith(v.detail, "cannot read the file system")) {
    size_t colon = v.detail.rfind(": ");
    findings = {"file system unreadable: " + StripNumbers(colon == std::string::npos ? v.detail : v.detail.substr(colon + 2))};
  }
  if (findings.empty()) return StripNumbers(v.detail);
  return (rule.empty() ? "" : rule + ": ") + Join(findings, "; ");
}

std::string OrderingSignature(const oracles::Verdict& v) {
  std::set<std::string> kinds;
  for (std::string_view line : Lines(v.output))
    if (!line.empty()) kinds.insert(StripNumbers(line));
  return kinds.empty() ? StripNumbers(v.detail) : Join(kinds, "; ");
}

std::string FirstLineWith(std::string_view text, std::string_view what) {
  for (std::string_view line : Lines(text))
    if (line.find(what) != std::string_view::npos) return std::string(line);
  return "";
}

std::string MountSignature(const oracles::Verdict& v) {
  std::string error = FirstLineWith(v.output, "EXT4-fs error");
  if (error.empty()) error = FirstLineWith(v.detail, "EXT4-fs error");
  if (!error.empty()) return Ext4ErrorSignature(error);
  std::string_view d = v.detail;
  if (d.find("mount failed") != std::string_view::npos) {
    // "kernel mount failed in the lab VM: mount: …: wrong fs type … (kernel: EXT4-fs (loop0): …)"
    size_t kernel = d.find("(kernel: ");
    std::string_view why = kernel != std::string_view::npos ? d.substr(kernel + 9) : d.substr(d.find(": ") + 2);
    if (why.ends_with(")") && kernel != std::string_view::npos) why.remove_suffix(1);
    return "mount failed: " + StripNumbers(why);
  }
  if (d.find("journal replay: ") != std::string_view::npos && v.output.find("$ ") != std::string::npos)
    return "after mount, " + FsckSignature(v.output);
  return StripNumbers(d);
}

}  // namespace

std::string StripNumbers(std::string_view input) {
  // Device names first: the loop device or disk a kernel mounted.
  static const std::regex kDevice("\\b(?:loop[0-9]+|vd[a-z][0-9]*|sd[a-z][0-9]*|nvme[0-9]+n[0-9]+(?:p[0-9]+)?)\\b");
  const std::string text = std::regex_replace(std::string(input), kDevice, "DEV");
  std::string out;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    bool starts = std::isdigit(static_cast<unsigned char>(c)) && (i == 0 || !word(text[i - 1]));
    if (!starts) {
      out += c;
      ++i;
      continue;
    }
    size_t j = i;
    if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
      j = i + 2;
      while (j < text.size() && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
    } else {
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    }
    out += 'N';
    i = j;
  }
  // A list or range of numbers is one number.
  static const std::regex kList("N(?:[,-]N)+(?:,\\.\\.\\. \\(N blocks\\))?|N,\\.\\.\\. \\(N blocks\\)");
  return std::regex_replace(out, kList, "N");
}

std::string Ext4ErrorSignature(std::string_view line) {
  size_t at = line.find("EXT4-fs error");
  if (at == std::string_view::npos) return StripNumbers(line);
  size_t open = line.find("): ", at);
  std::string_view rest = open == std::string_view::npos ? line.substr(at) : line.substr(open + 3);
  // "ext4_lookup:1803: …": the function, then what the kernel said.
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return StripNumbers(rest);
  std::string function(rest.substr(0, colon));
  std::string msg(rest.substr(colon + 1));
  // The line number, then the context the kernel prints before the message (fs/ext4/super.c
  // __ext4_error*, __ext4_grp_locked_error): inode, block, lblock, group, comm, path.
  static const std::regex kContext(
      "^\\s*(?:[0-9]+|inode #?[0-9]+|block [0-9]+|lblock [0-9]+|group [0-9]+|comm [^:]*|path [^:]*)\\s*[:,]");
  for (std::smatch m; std::regex_search(msg, m, kContext);) msg = m.suffix().str();
  std::string text = StripNumbers(msg);
  // "deleted inode referenced: N" -> "deleted inode referenced"
  static const std::regex kTrailing("(?:[:,]?\\s*N)+\\s*$");
  text = std::regex_replace(text, kTrailing, "");
  size_t b = text.find_first_not_of(' ');
  text = b == std::string::npos ? "" : text.substr(b);
  return function + (text.empty() ? "" : ": " + text);
}

std::string EarliestPassProblems(std::string_view codes) {
  std::vector<std::pair<uint32_t, std::string>> parsed;
  for (size_t pos = 0; pos <= codes.size();) {
    size_t comma = codes.find(',', pos);
    if (comma == std::string_view::npos) comma = codes.size();
    std::string code(codes.substr(pos, comma - pos));
    pos = comma + 1;
    char* end = nullptr;
    unsigned long v = std::strtoul(code.c_str(), &end, 16);
    if (code.empty() || !end || *end) return std::string(codes);  // not a list of codes: as it is
    parsed.emplace_back(uint32_t(v), code);
  }
  if (parsed.empty()) return std::string(codes);
  uint32_t pass = parsed.front().first >> 16;
  for (const auto& [v, text] : parsed) pass = std::min(pass, v >> 16);
  std::set<std::string> kept;
  for (const auto& [v, text] : parsed) {
    if (v >> 16 != pass) continue;
    if (pass != 5) {
      kept.insert(text);
      continue;
    }
    // Pass 5 (e2fsck/problem.h PR_5_*): which summaries differ.
    if ((v >= 0x050003 && v <= 0x050006) || v == 0x050002 || (v >= 0x050013 && v <= 0x050015) || v == 0x050018 ||
        v == 0x05001B)
      kept.insert("block bitmap");
    else if ((v >= 0x050007 && v <= 0x05000A) || v == 0x050001 || v == 0x050012 || v == 0x050016 || v == 0x050017 ||
             v == 0x050019 || v == 0x05001A)
      kept.insert("inode bitmap");
    else if (v >= 0x05000B && v <= 0x05000F)
      kept.insert("free counts");
    else
      kept.insert(text);
  }
  return pass == 5 ? "pass 5 (" + Join(kept, ", ") + ")" : Join(kept, ",");
}

std::string FsckSignature(std::string_view output) {
  struct Step {
    std::string label;
    std::string exit;
    std::string problems;
  };
  std::vector<Step> steps;
  for (std::string_view line : Lines(output)) {
    if (StartsWith(line, "$ ")) {
      steps.push_back({line.find("journal_only") != std::string_view::npos ? "journal replay" : "e2fsck -fn", "", ""});
    } else if (steps.empty()) {
      continue;
    } else if (StartsWith(line, oracles::kProblemsPrefix) && line.ends_with("]")) {
      line.remove_prefix(oracles::kProblemsPrefix.size());
      line.remove_suffix(1);
      steps.back().problems = std::string(line);
    } else if (StartsWith(line, "[") && line.ends_with("]")) {
      steps.back().exit = std::string(line.substr(1, line.size() - 2));
    }
  }
  if (steps.empty()) return "";
  const Step& s = steps.back();
  std::string kind = s.exit.empty() ? "no exit status" : ExitKind(s.exit);
  if (s.problems.empty()) return s.label + ": " + kind;
  return s.label + ": " + EarliestPassProblems(s.problems) + (kind == "errors left uncorrected" ? "" : " (" + kind + ")");
}

std::string SignatureOf(const oracles::Verdict& v) {
  if (v.ok) return "";
  switch (v.oracle) {
    case Oracle::kFsck: {
      std::string s = FsckSignature(v.output);
      return s.empty() ? StripNumbers(v.detail) : s;
    }
    case Oracle::kMount: return MountSignature(v);
    case Oracle::kData: return DataSignature(v);
    case Oracle::kOrdering: return OrderingSignature(v);
  }
  return StripNumbers(v.detail);
}

}  // namespace torn::triage
