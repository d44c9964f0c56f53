#include "cli/trace_facts.h"

#include "checker/state_image.h"
#include "trace/trace_dir.h"

namespace torn::cli {

void AddTraceFacts(const std::string& trace, report::SummaryOptions& so) {
  auto log = trace::Log::Open(trace);
  if (!log.ok()) return;
  for (const auto& m : log->marks()) so.marks.emplace_back(m.entry, m.name);
  auto description = trace::ReadDescription(trace);
  if (description.ok()) so.image_bytes = checker::ImageBytes(*log, description->value("device_bytes", uint64_t{0}));
}

}  // namespace torn::cli
