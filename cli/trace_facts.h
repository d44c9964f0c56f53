// What a report needs from the trace beyond the result (torn check, torn merge): the size of the
// images the checker built (what torn replay --device-size must be given to rebuild one byte for byte;
// 0 when it cannot be told) and the marks. Nothing is added when the trace cannot be opened (a merged
// result printed where the trace is not): the report then has no reproduce command.
#pragma once

#include <string>

#include "report/summary.h"

namespace torn::cli {

void AddTraceFacts(const std::string& trace, report::SummaryOptions& so);

}  // namespace torn::cli
