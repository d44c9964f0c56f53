#include "report/junit.h"

#include <fmt/core.h>

namespace torn::report {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (2-4 bytes, no overlong forms, no surrogates,
// nothing past U+10FFFF), or 0.
size_t Utf8Length(const std::string& s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = at(i + 1);
  if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
  if (c == 0xED && c1 >= 0xA0) return 0;  // surrogate
  if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
  if (c == 0xF4 && c1 >= 0x90) return 0;  // past U+10FFFF
  if (c == 0xEF && c1 == 0xBF && (at(i + 2) == 0xBE || at(i + 2) == 0xBF)) return 0;  // U+FFFE, U+FFFF
  return n;
}

}  // namespace

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&apos;"; continue;
      default: break;
    }
    if (u < 0x20) {
      out += (ch == '\n' || ch == '\t' || ch == '\r') ? ch : '?';
    } else if (u < 0x80) {
      out += ch;
    } else if (size_t n = Utf8Length(s, i)) {
      out.append(s, i, n);
      i += n - 1;
    } else {
      out += '?';
    }
  }
  return out;
}

std::string WriteJunit(const JunitSuite& suite) {
  size_t failing = 0;
  for (const auto& c : suite.cases) failing += !c.failures.empty();
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format("<testsuites>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                   XmlEscape(suite.name), suite.cases.size(), failing, suite.time);
  if (!suite.properties.empty()) {
    x += "  <properties>";
    for (const auto& [name, value] : suite.properties)
      x += fmt::format("<property name=\"{}\" value=\"{}\"/>", XmlEscape(name), XmlEscape(value));
    x += "</properties>\n";
  }
  for (const auto& c : suite.cases) {
    x += fmt::format("  <testcase classname=\"{}\" name=\"{}\"", XmlEscape(c.classname), XmlEscape(c.name));
    if (c.time) x += fmt::format(" time=\"{:.3f}\"", *c.time);
    x += ">";
    if (c.failures.empty()) {
      x += "</testcase>\n";
      continue;
    }
    x += "\n";
    for (const auto& f : c.failures)
      x += fmt::format("    <failure message=\"{}\" type=\"{}\">{}</failure>\n", XmlEscape(f.message),
                       XmlEscape(f.type), XmlEscape(f.text));
    x += "  </testcase>\n";
  }
  x += "</testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace torn::report
