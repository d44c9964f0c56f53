#include "gate/gate.h"

#include <chrono>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "gate/check.h"
#include "gate/workload.h"
#include "recorder/record_vm.h"
#include "trace/expectations.h"
#include "trace/trace_dir.h"

namespace torn::gate {

Result<LoopMode> ParseLoopMode(std::string_view s) {
  if (s == "buffered") return LoopMode::kBuffered;
  if (s == "direct") return LoopMode::kDirect;
  return BadInput("--loop-mode '" + std::string(s) + "': use buffered or direct");
}

Result<Inject> ParseInject(std::string_view s) {
  if (s == "none") return Inject::kNone;
  if (s == "outer-nobarrier") return Inject::kOuterNoBarrier;
  if (s == "inner-nobarrier") return Inject::kInnerNoBarrier;
  return BadInput("--inject '" + std::string(s) + "': use outer-nobarrier or inner-nobarrier");
}

std::string_view LoopModeName(LoopMode m) { return m == LoopMode::kDirect ? "direct" : "buffered"; }

std::string_view InjectName(Inject i) {
  switch (i) {
    case Inject::kNone: return "none";
    case Inject::kOuterNoBarrier: return "outer-nobarrier";
    case Inject::kInnerNoBarrier: return "inner-nobarrier";
  }
  return "?";
}

std::string_view LevelName(Level l) { return l == Level::kOuter ? "outer" : "inner"; }

Result<GateResult> RunGate(GateOptions o) {
  auto start = std::chrono::steady_clock::now();
  GateResult result;
  result.loop_mode = LoopModeName(o.loop_mode);
  result.inject = InjectName(o.inject);
  result.outer_fs = OuterFsName(o.outer);
  std::string outer_opts;
  if (o.inject == Inject::kOuterNoBarrier) {
    TORN_ASSIGN_OR_RETURN(outer_opts, NoBarrierMountOptions(o.outer));
  }
  if (o.workload_path.empty()) {
    // Its O_SYNC and O_DIRECT writes are xfs_io's, which the lab VM gets from this machine.
    if (FindProgram("xfs_io").empty())
      return Unavailable("the built-in gate workload needs xfs_io for its O_SYNC and O_DIRECT writes (xfsprogs: "
                         "scripts/install-deps.sh)");
    o.workload = DefaultWorkload();
    result.workload = "built-in";
  } else {
    TORN_ASSIGN_OR_RETURN(o.workload, ReadFileToString(o.workload_path));
    result.workload = o.workload_path;
  }

  // 1. Record the lower device.
  TORN_ASSIGN_OR_RETURN(TempDir work, TempDir::Create("torn-gate-"));
  recorder::VmRecordOptions r;
  r.workload_path = o.workload_path.empty() ? "gate-workload.sh" : o.workload_path;
  r.workload = WorkloadPreamble(o) + o.workload;
  r.out = o.keep_trace.empty() ? work.path() + "/trace" : o.keep_trace;
  r.overwrite = !o.keep_trace.empty();
  r.device_bytes = o.device_bytes;
  r.fs = OuterFsName(o.outer);
  r.mount_opts = outer_opts;
  r.kernel_image = o.kernel_image;
  r.modules_dir = o.modules_dir;
  r.timeout = o.vm_timeout;
  // The preamble prints the guest's loop module on the console (kLoopModuleLine): keep that line.
  std::string console_tail;
  r.on_console = [&](std::string_view s) {
    if (o.on_console) o.on_console(s);
    if (!result.loop_module.empty()) return;
    console_tail += s;
    size_t at = console_tail.find(kLoopModuleLine);
    if (at == std::string::npos) {
      if (console_tail.size() > 4096) console_tail.erase(0, console_tail.size() - 256);
      return;
    }
    size_t end = console_tail.find('\n', at);
    if (end == std::string::npos) return;
    std::string line = console_tail.substr(at + std::string_view(kLoopModuleLine).size(),
                                           end - at - std::string_view(kLoopModuleLine).size());
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    result.loop_module = line;
    console_tail.clear();
  };
  r.on_progress = o.on_progress;
  TORN_ASSIGN_OR_RETURN(recorder::VmRecordResult rec, recorder::RecordInVm(r));
  TORN_ASSIGN_OR_RETURN(nlohmann::json description, trace::ReadDescription(r.out));
  if (description.contains("source") && description["source"].is_object())
    result.kernel = description["source"].value("kernel", std::string());
  result.boot_seconds = rec.boot_seconds;
  result.record_seconds = rec.seconds;

  // 2. Check every lower crash state at both levels.
  CheckInput in;
  in.trace = r.out;
  TORN_ASSIGN_OR_RETURN(trace::Expectations all,
                        trace::ReadExpectations(r.out + "/" + trace::kExpectationsFile));
  SplitExpectations(all, in.outer, in.inner);
  if (in.inner.empty())
    return BadInput("the workload " + result.workload +
                    " recorded no inner manifest (`manifest inner-NAME $INNER`, gate/workload.h)");
  auto check_start = std::chrono::steady_clock::now();
  if (o.on_progress) o.on_progress("checking the lower device's crash states");
  TORN_RETURN_IF_ERROR(CheckLowerStates(o, in, result));
  auto end = std::chrono::steady_clock::now();
  result.check_seconds = std::chrono::duration<double>(end - check_start).count();
  result.total_seconds = std::chrono::duration<double>(end - start).count();
  return result;
}

}  // namespace torn::gate
