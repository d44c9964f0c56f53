// torn gate [--kernel VMLINUZ] [--modules DIR] [--loop-mode buffered|direct] [--workload SCRIPT]
//   [--outer ext4|xfs|btrfs] [--inject outer-nobarrier|inner-nobarrier] [--budget N] [--jobs N] [--junit FILE] [--json]
//   [--keep-trace DIR] [--console] [--all]
// The loop driver's crash-consistency gate (gate/gate.h, docs/gate.md).
// Exit 0: every lower crash state passes at both levels; 1: violations (listed); 2: error.

#include <fmt/core.h>

#include "base/file_io.h"
#include "checker/state_image.h"
#include "cli/command.h"
#include "gate/gate.h"
#include "gate/report.h"
#include "trace/trace_dir.h"

namespace torn::cli {

int RunGate(std::vector<std::string> args) {
  CLI::App app{
      "Boot the kernel under test in the lab VM, record the lower device through dm-log-writes while\n"
      "an inner ext4 on a loop device (backing file on the outer ext4) runs a workload with syncs and\n"
      "marks, then check every crash state of the lower device: outer ext4 recovered (e2fsck journal\n"
      "replay + e2fsck -fn), the backing file extracted with libext2fs, inner ext4 checked with e2fsck\n"
      "and the data oracle at the inner marks. --outer xfs|btrfs: the outer file system recovered by\n"
      "the kernel on a loop device, then xfs_repair -n or btrfs check (gate/outer_fs.h).\n"
      "Exit 0: all pass; 1: violations; 2: error.",
      "torn gate"};
  gate::GateOptions o;
  std::string loop_mode = "buffered", inject = "none", outer = "ext4", junit;
  bool json = false, console = false, all = false;
  double fsck_timeout = 60;
  unsigned size_mib = 0;
  app.add_option("--kernel", o.kernel_image, "kernel image to boot (default: Debian's, cached)");
  app.add_option("--modules", o.modules_dir, "its lib/modules/<release> folder (depmod run)");
  app.add_option("--loop-mode", loop_mode, "buffered (default) or direct (losetup --direct-io=on)");
  app.add_option("--workload", o.workload_path, "workload script (default: built-in; gate/workload.h)");
  app.add_option("--outer", outer, "outer file system holding the backing file: ext4 (default), xfs, btrfs");
  app.add_option("--inject", inject, "fault to inject: outer-nobarrier or inner-nobarrier");
  app.add_option("--budget", o.max_states, "lower crash states to check at most (default 1000)");
  app.add_option("--seed", o.seed, "seed of the bounded enumeration (default 1)");
  app.add_option("--jobs,-j", o.jobs, "worker threads (default 2)")->check(CLI::Range(1, 256));
  app.add_option("--size", size_mib, "lower device size in MiB (default 96; xfs 320, btrfs 128)")->check(CLI::Range(32, 4096));
  app.add_option("--junit", junit, "write a JUnit XML report to this file");
  app.add_flag("--json", json, "print the result as JSON on stdout");
  app.add_option("--keep-trace", o.keep_trace, "keep the recorded trace directory here");
  app.add_option("--scratch", o.scratch_dir, "directory for state images (default /dev/shm)");
  app.add_option("--fsck-timeout", fsck_timeout, "seconds per e2fsck run (default 60)");
  app.add_flag("--console", console, "stream the guest's console to stderr");
  app.add_flag("--all,--verbose", all, "list every violation, one line each (default: the first 10)");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  auto lm = gate::ParseLoopMode(loop_mode);
  if (!lm.ok()) return ReportError(lm.status());
  o.loop_mode = *lm;
  auto inj = gate::ParseInject(inject);
  if (!inj.ok()) return ReportError(inj.status());
  o.inject = *inj;
  auto ofs = gate::ParseOuterFs(outer);
  if (!ofs.ok()) return ReportError(ofs.status());
  o.outer = *ofs;
  o.device_bytes = size_mib ? uint64_t(size_mib) << 20 : gate::DefaultDeviceBytes(o.outer);
  o.fsck.timeout = std::chrono::milliseconds(static_cast<int64_t>(fsck_timeout * 1000));
  o.on_progress = [](std::string_view s) { fmt::print(stderr, "torn gate: {}\n", s); };
  if (console) o.on_console = [](std::string_view s) { fmt::print(stderr, "{}", s); };

  auto r = gate::RunGate(o);
  if (!r.ok()) return ReportError(r.status());
  if (!junit.empty()) {
    if (Status st = WriteFileAtomic(junit, gate::GateToJunit(*r)); !st.ok())
      return ReportError(st.with_context("the JUnit report"));
  }
  if (json) {
    fmt::print("{}\n", gate::GateToJson(*r).dump(2));
  } else {
    gate::GateTextOptions to{.all = all, .kept_trace = o.keep_trace};
    if (!o.keep_trace.empty() && !r->violations.empty()) {
      auto log = trace::Log::Open(o.keep_trace);
      auto description = trace::ReadDescription(o.keep_trace);
      if (log.ok() && description.ok())
        to.image_bytes = checker::ImageBytes(*log, description->value("device_bytes", uint64_t{0}));
    }
    fmt::print("{}", gate::GateToText(*r, to));
  }
  return r->violations.empty() ? kExitOk : kExitViolations;
}

}  // namespace torn::cli
