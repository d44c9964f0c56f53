#include "checker/shard.h"

#include <charconv>

namespace torn::checker {

Result<Shard> ParseShard(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return BadInput("--shard '" + std::string(text) + "': " + why + " (give K/N, 1 <= K <= N, e.g. 2/8)");
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  auto number = [](std::string_view s, uint32_t& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  Shard s;
  if (!number(text.substr(0, slash), s.index) || !number(text.substr(slash + 1), s.count))
    return bad("K and N must be whole numbers");
  if (s.count == 0) return bad("N must be at least 1");
  if (s.index == 0 || s.index > s.count) return bad("K must be between 1 and N");
  return s;
}

}  // namespace torn::checker
