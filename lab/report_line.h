// Words of a line a guest job sends on the lab VM's report channel (vm.h): "TAG ARG ARG ...", one
// space between words. The recorder's report and the mount oracle's both read lines this way.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace torn::lab {

// Splits the first line off `text` (without its "\n" or "\r\n": the console may add the "\r").
inline std::string_view NextLine(std::string_view& text) {
  size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// Splits the first space-separated word off `s`.
inline std::string_view NextWord(std::string_view& s) {
  size_t sp = s.find(' ');
  std::string_view w = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return w;
}

// The whole of `s` as a decimal number, or nothing.
template <typename T>
std::optional<T> WholeNumber(std::string_view s) {
  T v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace torn::lab
