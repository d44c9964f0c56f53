#include "recorder/record_vm.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "base/fd.h"
#include "base/file_io.h"
#include "base/temp_file.h"
#include "recorder/guest_job.h"
#include "recorder/guest_report.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::recorder {
namespace fs = std::filesystem;

namespace {

struct FsTools {
  std::string mkfs;                 // the program
  std::string mkfs_args;            // its fixed arguments
  std::string module;
};

Result<FsTools> ToolsFor(const std::string& fs) {
  if (fs == "ext4") return FsTools{"mke2fs", "-q -F -t ext4", "ext4"};
  if (fs == "xfs") return FsTools{"mkfs.xfs", "-q -f", "xfs"};
  if (fs == "btrfs") return FsTools{"mkfs.btrfs", "-q -f", "btrfs"};
  return BadInput("--fs " + fs + ": not supported (ext4, xfs, btrfs)");
}

// dm-log-writes' complaints when it stops logging (drivers/md/dm-log-writes.c).
constexpr std::string_view kLogErrors[] = {"Ran out of space on the logdev", "Error writing log block",
                                           "Error writing super block"};

Status Failure(const std::string& what, const std::string& console) {
  return BadInput(what + "\n--- guest console (last lines) ---\n" + lab::ConsoleTail(console, 25) +
                  "--- end of console ---");
}

Status MakeSparse(const std::string& path, uint64_t bytes) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return ErrnoError("size " + path, errno);
  return Status::Ok();
}

uint64_t LogEndByte(const trace::Log& log) {
  uint64_t end = log.sectorsize();
  for (size_t i = 0; i < log.size(); ++i) {
    end += log.sectorsize();
    if (log.entry(i).has_data()) end += log.entry_bytes(i);
  }
  return end;
}

std::string Now() {
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return when;
}

// The guest's job, checked against the log; see the header's steps 1-3.
Result<GuestReport> CheckRecording(const lab::GuestResult& g, const trace::Log& log) {
  TORN_ASSIGN_OR_RETURN(GuestReport report, ParseGuestReport(g.report));
  std::vector<std::string> in_log;
  for (const auto& m : log.marks()) in_log.push_back(m.name);
  if (in_log.empty() || in_log.back() != "dm-log-writes-end") {
    return Failure("the log does not end with the mark dm-log-writes-end (the target was not removed "
                   "cleanly)", g.console);
  }
  in_log.pop_back();
  if (in_log != report.marks) {
    std::string sent, got;
    for (const auto& m : report.marks) sent += " " + m;
    for (const auto& m : in_log) got += " " + m;
    return Failure("the log's marks (" + got + " ) differ from the marks the guest sent (" + sent + " )",
                   g.console);
  }
  for (const auto& [name, manifest] : report.manifests) {
    if (!log.FindMark(name)) return Failure("manifest " + name + " has no mark in the log", g.console);
  }
  return report;
}

}  // namespace

Result<VmRecordResult> RecordInVm(const VmRecordOptions& o) {
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](std::string_view s) {
    if (o.on_progress) o.on_progress(s);
  };
  if (o.sector != 512 && o.sector != 4096) return BadInput("--sector must be 512 or 4096");
  if (o.device_bytes < (16ull << 20) || o.device_bytes % 4096) {
    return BadInput("--size must be at least 16M and a multiple of 4096 bytes");
  }
  TORN_ASSIGN_OR_RETURN(FsTools tools, ToolsFor(o.fs));
  std::error_code ec;
  if (!o.overwrite && fs::exists(o.out + "/" + trace::kDescriptionFile, ec)) {
    return BadInput(o.out + ": already holds a trace; choose another --out or pass --overwrite");
  }

  Result<lab::Kernel> kernel = o.kernel_image.empty() ? lab::DebianKernel(progress)
                                                      : lab::KernelFromImage(o.kernel_image, progress);
  if (!kernel.ok()) return kernel.status().with_context("guest kernel");
  if (!o.modules_dir.empty()) {
    if (!fs::exists(o.modules_dir + "/modules.dep", ec))
      return BadInput("--modules " + o.modules_dir + ": not a lib/modules/<release> folder (no modules.dep; run depmod)");
    kernel->modules_dir = o.modules_dir;
  }
  lab::InitramfsSpec spec;
  spec.programs = {"dmsetup", "losetup", "mke2fs", "e2fsck", "debugfs", tools.mkfs};
  spec.optional_programs = {"tune2fs", "xfs_io"};
  spec.modules = {"virtio_pci", "virtio_blk", "dm-mod", "dm-log-writes", "loop", "ext4", tools.module};
  progress("building the initramfs");
  TORN_ASSIGN_OR_RETURN(lab::Initramfs initramfs, lab::BuildInitramfs(*kernel, spec));
  std::string mkfs_guest;
  for (const auto& p : initramfs.programs) {
    if (fs::path(p).filename() == tools.mkfs) mkfs_guest = p;
  }

  TORN_ASSIGN_OR_RETURN(TempDir work, TempDir::Create("torn-record-"));
  std::string data = work.path() + "/data.img", log_img = work.path() + "/log.img";
  TORN_RETURN_IF_ERROR(MakeSparse(data, o.device_bytes));
  TORN_RETURN_IF_ERROR(MakeSparse(log_img, o.log_bytes));

  lab::GuestSpec g;
  g.kernel = *kernel;
  g.initramfs = initramfs;
  g.script = GuestRunScript();
  g.files = GuestJobFiles({.fs = o.fs, .mkfs = mkfs_guest + " " + tools.mkfs_args,
                           .mkfs_opts = o.mkfs_opts, .mount_opts = o.mount_opts, .workload = o.workload});
  g.disks = {{data, o.sector}, {log_img, 512}};
  g.timeout = o.timeout;
  g.accel = o.accel;
  g.on_console = o.on_console;
  g.on_progress = o.on_progress;
  progress("booting " + kernel->description);
  TORN_ASSIGN_OR_RETURN(lab::GuestResult run, lab::RunGuest(g));
  if (run.outcome.outcome == lab::Outcome::kInterrupted) return Status(Code::kInterrupted, "interrupted");

  // A log that dm-log-writes gave up on is the first thing to say, whatever the job did next.
  for (std::string_view err : kLogErrors) {
    if (run.console.find(err) != std::string::npos) {
      return Failure("recording failed: dm-log-writes stopped logging (\"" + std::string(err) +
                     "\"): the log device (" + std::to_string(o.log_bytes >> 20) +
                     " MiB) is full or failing; the trace would be incomplete", run.console);
    }
  }
  // How the guest ended, in the words of what went wrong.
  if (!run.outcome.ok()) {
    auto report = ParseGuestReport(run.report);
    std::string what = run.outcome.describe();
    if (run.outcome.outcome == lab::Outcome::kExited) {
      int st = run.outcome.job_status;
      if (report.ok() && report->workload_exit && *report->workload_exit != 0) {
        what = "the workload " + o.workload_path + " failed with status " + std::to_string(*report->workload_exit);
      } else if (st >= 120 && st < 130) {
        what = "the recording setup failed in the guest (status " + std::to_string(st) + ")";
      }
    } else if (run.outcome.outcome == lab::Outcome::kTimedOut) {
      what += " (" + std::to_string(o.timeout.count()) + " s; raise --timeout)";
    }
    return Failure("recording failed: " + what, run.console);
  }

  progress("checking the log");
  {
    // Cut the sparse log disk to its entries, so the trace holds only the log.
    TORN_ASSIGN_OR_RETURN(trace::Log whole, trace::Log::Open(log_img, {.device_bytes = o.device_bytes}));
    if (::truncate(log_img.c_str(), static_cast<off_t>(LogEndByte(whole))) != 0) {
      return ErrnoError("truncate " + log_img, errno);
    }
  }
  auto log = trace::Log::Open(log_img, {.device_bytes = o.device_bytes});
  if (!log.ok()) return Failure("the recorded log does not parse: " + log.status().message(), run.console);
  TORN_ASSIGN_OR_RETURN(GuestReport report, CheckRecording(run, *log));

  nlohmann::json source = {
      {"how", "record --vm"},
      {"kernel", kernel->description},
      {"kernel_release", kernel->release},
      {"fs", o.fs},
      {"mkfs_opts", o.mkfs_opts},
      {"mount_opts", o.mount_opts},
      {"sectorsize", o.sector},
      {"device_bytes", o.device_bytes},
      {"workload_file", fs::path(o.workload_path).filename().string()},
      {"workload", o.workload},
      {"torn_version", TORN_VERSION},
      {"time", Now()},
      {"accel", run.accel},
      {"boot_seconds", run.boot_seconds},
      {"guest_seconds", run.seconds},
  };
  progress("writing " + o.out);
  TORN_RETURN_IF_ERROR(trace::WriteTraceDir(*log, o.out, source, o.overwrite));
  TORN_RETURN_IF_ERROR(WriteFileAtomic(o.out + "/" + trace::kExpectationsFile,
                                       trace::ExpectationsToJson(report.manifests).dump(2) + "\n"));
  TORN_RETURN_IF_ERROR(WriteFileAtomic(o.out + "/" + trace::kConsoleFile, run.console));

  VmRecordResult r;
  r.entries = log->size();
  for (const auto& m : log->marks()) r.marks.push_back(m.name);
  r.manifests = report.manifests.size();
  r.log_bytes = log->file_bytes();
  r.boot_seconds = run.boot_seconds;
  r.guest_seconds = run.seconds;
  r.accel = run.accel;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace torn::recorder
