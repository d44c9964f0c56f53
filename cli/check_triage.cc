#include "cli/check_triage.h"

#include <fmt/core.h>

#include "checker/setup.h"
#include "cli/command.h"

namespace torn::cli {

Result<triage::Triage> TriageCheck(const checker::CheckOptions& o, const checker::CheckResult& r,
                                   const CheckTriageOptions& t) {
  triage::TriageOptions to;
  to.minimize = t.minimize;
  to.time_budget = std::chrono::milliseconds(static_cast<int64_t>(t.seconds * 1000));
  to.trace_arg = o.trace;
  to.db = o.db;
  to.run_id = r.run_id;
  to.judge.fsck = o.fsck;
  to.judge.host_mount = o.host_mount;
  to.judge.kernel_replays_fast_commits = o.kernel_replays_fast_commits;
  to.judge.vm_mount = o.vm_mount;
  to.judge.scratch_dir = o.scratch_dir;
  to.on_progress = [](std::string_view s) { fmt::print(stderr, "torn: {}\n", s); };
  if (t.minimize == 0) return triage::GroupOnly(r);  // no setup needed
  TORN_ASSIGN_OR_RETURN(checker::Setup setup, checker::Prepare(checker::SetupOptionsOf(o)));
  to.image_bytes = setup.image_bytes;
  return triage::RunTriage(r, setup, to);
}

}  // namespace torn::cli
