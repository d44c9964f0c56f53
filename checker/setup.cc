#include "checker/setup.h"

#include <unistd.h>

#include <algorithm>

#include "checker/state_image.h"
#include "ext4/journal_map.h"
#include "trace/expectations.h"
#include "trace/trace_dir.h"

namespace torn::checker {

using oracles::Oracle;

bool Setup::Has(Oracle o) const { return std::count(oracles.begin(), oracles.end(), o) > 0; }
bool Setup::WantsImage() const {
  return std::any_of(oracles.begin(), oracles.end(), [](Oracle o) { return o != Oracle::kOrdering; });
}

Result<Setup> Prepare(const SetupOptions& o) {
  TORN_ASSIGN_OR_RETURN(trace::Log log, trace::Log::Open(o.trace));
  TORN_ASSIGN_OR_RETURN(nlohmann::json description, trace::ReadDescription(o.trace));
  Setup s{.log = std::move(log), .description = std::move(description)};
  s.oracles = o.oracles.empty() ? std::vector<Oracle>{Oracle::kFsck, Oracle::kData, Oracle::kOrdering}
                                : o.oracles;

  s.space = o.space;
  s.from_mark = o.from_mark;
  if (!o.from_mark && o.default_from_mark && s.log.FindMark(models::kDefaultFromMark)) {
    s.from_mark = std::string(models::kDefaultFromMark);
    s.from_mark_default = true;
  }
  if (s.from_mark) {
    auto e = s.log.FindMark(*s.from_mark);
    if (!e) return BadInput(o.trace + ": no mark named '" + *s.from_mark + "'");
    s.space.from_entry = *e;
  }

  // Data: the manifests, from --expect or the trace directory.
  s.expect_path = o.expect.value_or("");
  if (s.expect_path.empty() && !trace::TraceDirOf(o.trace).empty()) {
    std::string p = trace::TraceDirOf(o.trace) + "/" + trace::kExpectationsFile;
    if (::access(p.c_str(), R_OK) == 0) s.expect_path = p;
  }
  if (s.Has(Oracle::kData)) {
    trace::Expectations ex;
    if (!s.expect_path.empty()) {
      TORN_ASSIGN_OR_RETURN(ex, trace::ReadExpectations(s.expect_path));
    } else {
      s.notes.push_back("data: the trace has no manifests (give --expect FILE): nothing to compare");
    }
    TORN_ASSIGN_OR_RETURN(oracles::DataPlan plan, oracles::DataPlan::Build(s.log, ex));
    s.data.emplace(std::move(plan));
  }
  if (s.Has(Oracle::kOrdering)) {
    auto map = ext4::JournalMap::Build(s.log);
    if (!map.ok()) {
      if (o.oracles_explicit || map.status().code() != Code::kUnavailable)
        return map.status().with_context("ordering oracle");
      s.notes.push_back("ordering: skipped: " + map.status().message());
      s.oracles.erase(std::find(s.oracles.begin(), s.oracles.end(), Oracle::kOrdering));
    } else {
      s.notes.push_back("ordering: " + map->summary);
      s.ordering.emplace(std::make_shared<const ext4::JournalMap>(std::move(map).value()));
    }
  }
  s.image_bytes = ImageBytes(s.log, s.description.value("device_bytes", uint64_t{0}));
  return s;
}

}  // namespace torn::checker
