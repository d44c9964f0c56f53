// torn record --vm --workload SCRIPT --out DIR [...]   record in the lab VM (recorder/record_vm.h)
// torn record --host --dev DEV --log-dev LOGDEV --out DIR -- CMD...   record on this machine
//                                                        (recorder/record_host.h)
// The guest's console streams to stderr as it runs: on a terminal under a progress line that says
// what the recording is doing, elsewhere as plain lines prefixed "| ".
#include <fmt/core.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <fstream>
#include <sstream>

#include "base/file_io.h"
#include "cli/command.h"
#include "recorder/record_host.h"
#include "recorder/record_vm.h"

namespace torn::cli {
namespace {

constexpr const char* kHelp =
    "Record a workload's block I/O with the kernel's dm-log-writes target and write a trace directory.\n"
    "\n"
    "--vm (the default): boots Debian's kernel under qemu (fetched into ~/.cache/torn the first time;\n"
    "KVM when it works here, else TCG), makes a logged device, runs SCRIPT inside and writes DIR:\n"
    "log.zst (the log), trace.json (kernel, fs, options, sizes, the workload's text), expectations.json\n"
    "(the manifests) and console.log. Before SCRIPT runs, torn has made the file system on $DEV,\n"
    "sent the mark `mkfs` and mounted it at $MNT. SCRIPT runs under `sh -e` (busybox) in the guest:\n"
    "  $DEV          the logged device (dm-log-writes over the data disk)\n"
    "  $MNT          where $DEV is mounted (/mnt)\n"
    "  mark NAME     insert the mark NAME into the log (letters, digits, ._+:@=-)\n"
    "  manifest NAME sync, record every file (path, size, md5) and directory under $MNT into\n"
    "                expectations.json under NAME, and insert the mark NAME\n"
    "  fsync FILE    fsync(2) a file (fdatasync FILE: fdatasync(2))\n"
    "Busybox's applets come first in the guest: call util-linux and e2fsprogs tools by full path\n"
    "(/usr/sbin/losetup, /usr/sbin/mke2fs). What the workload leaves mounted under $MNT is unmounted\n"
    "at the end; the log then ends with the mark dm-log-writes-end. Example SCRIPT:\n"
    "  mkdir $MNT/d; echo one > $MNT/d/f; fsync $MNT/d/f; mark fsync-1\n"
    "  dd if=/dev/urandom of=$MNT/big bs=4k count=16; sync; manifest step-2\n"
    "\n"
    "--host: on a machine whose kernel has device-mapper, logs DEV to LOGDEV while CMD runs (no\n"
    "shell: pass sh -c '...'), with $DEV the logged device and `torn mark NAME` to insert marks.\n"
    "Neither device may be mounted. The log is imported into DIR when CMD succeeds.\n"
    "\n"
    "Exit status 0 when the trace is written; 2 when anything failed (the workload, the guest, a full\n"
    "log device), with the reason and the console's last lines; 130 when interrupted.";

// "128M", "1G", "65536": bytes.
std::optional<uint64_t> ParseSize(std::string s) {
  if (s.empty()) return std::nullopt;
  uint64_t mult = 1;
  char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
  if (last == 'K' || last == 'M' || last == 'G') {
    mult = last == 'K' ? 1ull << 10 : last == 'M' ? 1ull << 20 : 1ull << 30;
    s.pop_back();
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(s) * mult;
}

// Streams the console; on a terminal keeps a progress line under it, redrawn twice a second by a
// ticker thread (the guest is silent while it boots), so every write holds the mutex.
class ConsoleView {
 public:
  explicit ConsoleView(bool quiet) : quiet_(quiet), tty_(StderrIsTty()), start_(Clock::now()) {
    if (tty_) {
      ticker_ = std::jthread([this](std::stop_token stop) {
        while (!stop.stop_requested()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          std::lock_guard lock(mu_);
          Redraw();
        }
      });
    }
  }
  ~ConsoleView() { Done(); }
  // Stops the ticker and clears the progress line; nothing is drawn afterwards.
  void Done() {
    if (ticker_.joinable()) {
      ticker_.request_stop();
      ticker_.join();
    }
    std::lock_guard lock(mu_);
    ClearProgress();
    tty_ = false;
    quiet_ = true;
  }

  void Console(std::string_view chunk) {
    std::lock_guard lock(mu_);
    for (char c : chunk) {
      if (c == '\r') continue;
      if (c != '\n') {
        line_ += c;
        continue;
      }
      Line(line_);
      line_.clear();
    }
    Redraw();
  }
  void Phase(std::string_view what) {
    std::lock_guard lock(mu_);
    phase_ = what;
    if (!tty_) fmt::print(stderr, "torn: {}\n", what);
    Redraw();
  }

 private:
  using Clock = std::chrono::steady_clock;
  void Line(const std::string& line) {
    if (line.starts_with("@@torn: ")) {
      std::string_view e = std::string_view(line).substr(8);
      if (e == "job start") phase_ = "setting up the logged device";
      else if (e.starts_with("mkfs")) phase_ = "making the file system";
      else if (e == "workload start") phase_ = "running the workload";
      else if (e.starts_with("mark ")) ++marks_;
      else if (e.starts_with("workload exit")) phase_ = "closing the log";
      else if (e.starts_with("job exit")) phase_ = "powering off";
    }
    if (quiet_) return;
    ClearProgress();
    fmt::print(stderr, "| {}\n", line);
  }
  void ClearProgress() {
    if (tty_ && drawn_) fmt::print(stderr, "\r\033[K");
    drawn_ = false;
  }
  void Redraw() {
    if (!tty_) return;
    double s = std::chrono::duration<double>(Clock::now() - start_).count();
    fmt::print(stderr, "\r\033[K\033[1m[torn record {:5.1f} s] {} ({} marks)\033[0m", s, phase_, marks_);
    std::fflush(stderr);
    drawn_ = true;
  }

  std::mutex mu_;
  bool quiet_, tty_;
  Clock::time_point start_;
  std::string line_, phase_ = "starting";
  int marks_ = 0;
  bool drawn_ = false;
  std::jthread ticker_;
};

int RecordHost(const recorder::HostRecordOptions& o) {
  auto r = recorder::RecordOnHost(o);
  if (!r.ok()) return ReportError(r.status().with_context("record"));
  fmt::print("recorded {} entries ({} marks) into {}\n", r->entries, r->marks, o.out);
  return kExitOk;
}

}  // namespace

int RunRecord(std::vector<std::string> args) {
  CLI::App app{kHelp, "torn record"};
  bool vm = false, host = false, quiet = false, overwrite = false;
  std::string workload, out, fs = "ext4", mkfs_opts, mount_opts, size = "128M", kernel, accel = "auto";
  std::string log_size = "1G", dev, log_dev;
  unsigned sector = 512;
  unsigned timeout = 600;
  std::vector<std::string> command;
  app.add_flag("--vm", vm, "record in the lab VM (the default)");
  app.add_flag("--host", host, "record on this machine through device-mapper");
  app.add_option("--workload", workload, "shell script to run in the guest (--vm)");
  app.add_option("--out", out, "trace directory to write")->required();
  app.add_option("--fs", fs, "file system to make on $DEV: ext4 (default), xfs (--size 300M at least), btrfs");
  app.add_option("--mkfs-opts", mkfs_opts, "extra mkfs options, e.g. \"-O fast_commit\"");
  app.add_option("--mount-opts", mount_opts, "mount options, e.g. \"data=journal\" or \"barrier=0\"");
  app.add_option("--size", size, "size of the logged device (default 128M)");
  app.add_option("--sector", sector, "logical sector size of the logged device: 512 or 4096")
      ->check(CLI::IsMember({512, 4096}));
  app.add_option("--kernel", kernel, "guest kernel image (default: Debian's linux-image-amd64)");
  app.add_option("--timeout", timeout, "seconds before the guest is stopped (default 600)");
  app.add_option("--accel", accel, "auto (default), kvm or tcg")->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  app.add_option("--log-size", log_size, "size of the log device (default 1G)")->group("");
  app.add_flag("--quiet", quiet, "do not stream the guest's console");
  app.add_flag("--overwrite", overwrite, "replace a trace already in DIR");
  app.add_option("--dev", dev, "device to log (--host)");
  app.add_option("--log-dev", log_dev, "device to write the log to (--host)");
  app.add_option("CMD", command, "command to run (--host), after --");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  if (vm && host) return ReportError(BadInput("record: choose one of --vm and --host"));
  if (host) {
    if (!workload.empty()) return ReportError(BadInput("record --host runs CMD, not --workload"));
    return RecordHost({.dev = dev, .log_dev = log_dev, .out = out, .command = command,
                       .timeout = std::chrono::seconds(timeout), .overwrite = overwrite});
  }
  if (!command.empty() || !dev.empty() || !log_dev.empty()) {
    return ReportError(BadInput("record: --dev, --log-dev and CMD are for --host"));
  }
  if (workload.empty()) return ReportError(BadInput("record --vm needs --workload SCRIPT"));
  auto text = ReadFileToString(workload);
  if (!text.ok()) return ReportError(text.status().with_context("record: --workload"));
  auto bytes = ParseSize(size);
  if (!bytes) return ReportError(BadInput("record: --size " + size + ": not a size (like 64M or 1G)"));
  auto log_bytes = ParseSize(log_size);
  if (!log_bytes) return ReportError(BadInput("record: --log-size " + log_size + ": not a size"));

  ConsoleView view(quiet);
  recorder::VmRecordOptions o;
  o.workload_path = workload;
  o.workload = *text;
  o.out = out;
  o.fs = fs;
  o.mkfs_opts = mkfs_opts;
  o.mount_opts = mount_opts;
  o.device_bytes = *bytes;
  o.sector = sector;
  o.log_bytes = *log_bytes;
  o.kernel_image = kernel;
  o.timeout = std::chrono::seconds(timeout);
  o.accel = accel == "kvm" ? lab::Accel::kKvm : accel == "tcg" ? lab::Accel::kTcg : lab::Accel::kAuto;
  o.overwrite = overwrite;
  o.on_console = [&](std::string_view c) { view.Console(c); };
  o.on_progress = [&](std::string_view p) { view.Phase(p); };
  auto r = recorder::RecordInVm(o);
  view.Done();
  if (!r.ok()) return ReportError(r.status().with_context("record"));
  std::string marks;
  for (const auto& m : r->marks) marks += (marks.empty() ? "" : " ") + m;
  fmt::print("recorded {} entries, {} manifests, marks: {}\n", r->entries, r->manifests, marks);
  fmt::print("into {} in {:.1f} s (guest {:.1f} s, of which boot {:.1f} s; {})\n", out, r->seconds,
             r->guest_seconds, r->boot_seconds, r->accel);
  return kExitOk;
}

}  // namespace torn::cli
