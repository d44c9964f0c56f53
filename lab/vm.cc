#include "lab/vm.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>

#include "base/file_io.h"
#include "base/interrupt.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "lab/cpio.h"

namespace torn::lab {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kJobStart = "@@torn: job start";

std::string ProbeFile() {
  struct utsname u;
  ::uname(&u);
  return CacheRoot() + "/kvm-probe-" + u.release;
}

bool KvmUsable() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::vector<std::string> QemuArgv(const GuestSpec& spec, Accel accel, const std::string& initrd,
                                  const std::string& report) {
  std::vector<std::string> a = {"qemu-system-x86_64", "-accel", accel == Accel::kKvm ? "kvm" : "tcg",
                                // TCG's default CPU model (qemu64) lacks what glibc and the kernel
                                // use for fast paths: with "max", mke2fs runs 10x faster in the guest.
                                "-cpu", accel == Accel::kKvm ? "kvm64" : "max",
                                "-m", std::to_string(spec.memory_mib), "-smp", "1",
                                "-nodefaults", "-no-user-config", "-display", "none",
                                "-monitor", "none", "-nic", "none", "-no-reboot"};
  // qboot loads the kernel much faster than SeaBIOS under TCG; use it when Debian's qemu ships it.
  if (fs::exists("/usr/share/qemu/qboot.rom")) a.insert(a.end(), {"-bios", "/usr/share/qemu/qboot.rom"});
  a.insert(a.end(), {"-serial", "stdio", "-serial", "file:" + report, "-kernel", spec.kernel.boot_image,
                     "-initrd", initrd, "-append",
                     "console=ttyS0 panic=-1 oops=panic loglevel=4 mitigations=off torn_disks=" +
                         std::to_string(spec.disks.size())});
  for (size_t i = 0; i < spec.disks.size(); ++i) {
    const GuestDisk& d = spec.disks[i];
    std::string id = "d" + std::to_string(i);
    a.insert(a.end(), {"-drive", "file=" + d.path + ",format=raw,if=none,cache=writeback,id=" + id +
                                     (d.read_only ? ",readonly=on" : "")});
    std::string dev = "virtio-blk-pci,drive=" + id;
    if (d.logical_block_size != 512) {
      dev += ",logical_block_size=" + std::to_string(d.logical_block_size) +
             ",physical_block_size=" + std::to_string(d.logical_block_size);
    }
    a.insert(a.end(), {"-device", dev});
  }
  return a;
}

// The cached archive followed by the job's own archive (the kernel unpacks both, in order).
Result<TempFile> JobInitrd(const GuestSpec& spec) {
  TORN_ASSIGN_OR_RETURN(std::string base, ReadFileToString(spec.initramfs.path));
  CpioWriter w;
  w.AddFile("job/run.sh", spec.script, 0755);
  for (const GuestFile& f : spec.files) {
    w.AddFile(f.path.starts_with("/") ? f.path : "job/" + f.path, f.data, f.mode);
  }
  base += w.Finish();
  TORN_ASSIGN_OR_RETURN(TempFile tmp, TempFile::Create("torn-initrd-"));
  TORN_RETURN_IF_ERROR(WriteFull(tmp.fd(), std::as_bytes(std::span(base.data(), base.size())))
                           .with_context(tmp.path()));
  return tmp;
}

Result<GuestResult> RunWith(const GuestSpec& spec, Accel accel) {
  if (FindProgram("qemu-system-x86_64").empty()) {
    return Unavailable("qemu-system-x86_64 not found (install qemu-system-x86)");
  }
  for (const GuestDisk& d : spec.disks) {
    if (!fs::exists(d.path)) return BadInput(d.path + ": no such disk image");
  }
  TORN_ASSIGN_OR_RETURN(TempFile initrd, JobInitrd(spec));
  TORN_ASSIGN_OR_RETURN(TempFile report, TempFile::Create("torn-report-"));

  GuestResult result;
  result.accel = accel == Accel::kKvm ? "kvm" : "tcg";
  result.qemu_argv = QemuArgv(spec, accel, initrd.path(), report.path());
  auto start = std::chrono::steady_clock::now();
  std::string window;  // the end of the output so far, to find the start line across chunks
  SpawnOptions o;
  o.argv = result.qemu_argv;
  o.timeout = spec.timeout;
  o.capture_limit = 16 << 20;
  o.on_output = [&](std::string_view chunk) {
    if (result.boot_seconds < 0) {
      window.append(chunk);
      if (window.find(kJobStart) != std::string::npos) {
        result.boot_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      if (window.size() > 256) window.erase(0, window.size() - 64);
    }
    if (spec.on_console) spec.on_console(chunk);
  };
  TORN_ASSIGN_OR_RETURN(RunResult run, RunChild(o));
  result.seconds = run.seconds;
  result.console = std::move(run.output);
  auto rep = ReadFileToString(report.path());
  if (rep.ok()) result.report = std::move(rep).value();
  result.outcome = ClassifyGuest(run.status, result.console, result.report);
  if (result.outcome.outcome == Outcome::kNoStatus && !run.status.success()) {
    result.console += "\n[qemu " + run.status.describe() + "]\n";
  }
  return result;
}

}  // namespace

Accel ResolveAccel(Accel requested, const Kernel& kernel, const Initramfs& initramfs,
                   const std::function<void(std::string_view)>& progress) {
  if (const char* env = ::getenv("TORN_ACCEL"); env && *env) {
    if (std::string_view(env) == "tcg") return Accel::kTcg;
    if (std::string_view(env) == "kvm") return Accel::kKvm;
  }
  if (requested != Accel::kAuto) return requested;
  if (!KvmUsable()) return Accel::kTcg;
  auto verdict = ReadFileToString(ProbeFile());
  if (verdict.ok()) return verdict->starts_with("ok") ? Accel::kKvm : Accel::kTcg;
  // Probe: boot a job that does nothing under KVM with a short deadline.
  if (progress) progress("probing whether KVM guests boot on this host (once; the verdict is cached)");
  GuestSpec probe;
  probe.kernel = kernel;
  probe.initramfs = initramfs;
  probe.script = "exit 0\n";
  probe.timeout = std::chrono::seconds(20);
  auto r = RunWith(probe, Accel::kKvm);
  bool ok = r.ok() && r->outcome.ok();
  if (Interrupted()) return Accel::kTcg;  // no verdict from an interrupted probe
  std::error_code ec;
  fs::create_directories(CacheRoot(), ec);
  (void)WriteFileAtomic(ProbeFile(), ok ? "ok\n" : "hangs or fails\n");
  return ok ? Accel::kKvm : Accel::kTcg;
}

Result<GuestResult> RunGuest(const GuestSpec& spec) {
  return RunWith(spec, ResolveAccel(spec.accel, spec.kernel, spec.initramfs, spec.on_progress));
}

}  // namespace torn::lab
