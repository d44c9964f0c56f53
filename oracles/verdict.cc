#include "oracles/verdict.h"

#include <algorithm>

namespace torn::oracles {

std::string_view OracleName(Oracle o) {
  switch (o) {
    case Oracle::kFsck: return "fsck";
    case Oracle::kData: return "data";
    case Oracle::kOrdering: return "ordering";
    case Oracle::kMount: return "mount";
  }
  return "?";
}

Result<Oracle> ParseOracle(std::string_view name) {
  for (Oracle o : kAllOracles)
    if (OracleName(o) == name) return o;
  return BadInput("unknown oracle '" + std::string(name) + "' (oracles: fsck, data, ordering, mount)");
}

Result<std::vector<Oracle>> ParseOracleList(std::string_view list) {
  std::vector<Oracle> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view name = list.substr(start, end - start);
    TORN_ASSIGN_OR_RETURN(Oracle o, ParseOracle(name));
    if (std::find(out.begin(), out.end(), o) != out.end())
      return BadInput("oracle '" + std::string(name) + "' given twice");
    out.push_back(o);
    start = end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace torn::oracles
