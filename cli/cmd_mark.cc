// torn mark NAME [--target T]: inserts a mark into a running dm-log-writes target; the command a
// `torn record --host` workload calls (the target comes from $TORN_DM_TARGET).
#include <fmt/core.h>

#include <cstdlib>

#include "cli/command.h"
#include "recorder/dm.h"
#include "recorder/guest_job.h"

namespace torn::cli {

int RunMark(std::vector<std::string> args) {
  CLI::App app{"Insert the mark NAME into the dm-log-writes log being recorded (torn record --host\n"
               "sets $TORN_DM_TARGET for its command). In the lab VM, workloads call `mark NAME`.",
               "torn mark"};
  std::string name, target;
  app.add_option("NAME", name, "the mark (letters, digits, ._+:@=-)")->required();
  app.add_option("--target", target, "device-mapper target name (default $TORN_DM_TARGET)");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;
  if (target.empty() && std::getenv("TORN_DM_TARGET")) target = std::getenv("TORN_DM_TARGET");
  if (target.empty()) return ReportError(BadInput("mark: no --target and no $TORN_DM_TARGET"));
  if (!recorder::ValidMarkName(name)) return ReportError(BadInput("mark: bad name '" + name + "'"));
  if (Status st = recorder::CheckDeviceMapper(); !st.ok()) return ReportError(st.with_context("mark"));
  if (Status st = recorder::SendMark(target, name); !st.ok()) return ReportError(st.with_context("mark"));
  return kExitOk;
}

}  // namespace torn::cli
