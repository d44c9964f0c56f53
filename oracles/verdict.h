// Verdicts: what one oracle says about one crash state. Plain data shared by the oracles, the run
// driver, the store and the reports. An oracle that could not judge (a tool missing, the image
// unreadable by torn itself) returns a Status instead; a hung or crashing tool is a verdict.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace torn::oracles {

enum class Oracle { kFsck, kData, kOrdering, kMount };
inline constexpr Oracle kAllOracles[] = {Oracle::kFsck, Oracle::kData, Oracle::kOrdering,
                                         Oracle::kMount};

std::string_view OracleName(Oracle o);  // "fsck", "data", "ordering", "mount"
Result<Oracle> ParseOracle(std::string_view name);
// "fsck,data,ordering": each known, no repeats; the result in the canonical order above.
Result<std::vector<Oracle>> ParseOracleList(std::string_view list);

struct Verdict {
  Oracle oracle = Oracle::kFsck;
  bool ok = true;
  std::string detail;  // one line: why it failed (empty when ok)
  std::string output;  // the tool's output or the oracle's full findings, for the store
  // What failed, without this state's numbers (triage/signature.h); set by the checker, empty when ok.
  std::string signature;
};

}  // namespace torn::oracles
