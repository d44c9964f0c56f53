#include "lab/initramfs.h"

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "base/file_io.h"
#include "base/hash.h"
#include "base/subprocess.h"
#include "lab/cpio.h"
#include "lab/modules.h"

namespace torn::lab {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInit = R"INIT(#!/bin/busybox sh
# torn lab VM init (lab/initramfs.h): set up, load modules, run /job/run.sh, report, power off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt /run
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export TORN_REPORT=/dev/ttyS1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
finish() {
  sync
  echo "TORN-EXIT $1" > $TORN_REPORT
  echo "@@torn: job exit $1"
  poweroff -f
  sleep 10
}
while read -r need m; do
  [ -n "$m" ] || continue
  insmod "/lib/modules/$m" 2>/dev/null && continue
  [ "$need" = optional ] && continue
  insmod "/lib/modules/$m"
  echo "@@torn: cannot load kernel module $m"
  finish 125
done < /etc/torn/modules
n=0
while [ "$(ls /sys/block | grep -c '^vd')" -lt "${torn_disks:-0}" ]; do
  n=$((n + 1))
  [ $n -lt 200 ] || { echo "@@torn: the guest sees $(ls /sys/block | grep -c '^vd') disks, expected $torn_disks"; finish 125; }
  sleep 0.05
done
echo "@@torn: job start"
cd /job && sh /job/run.sh < /dev/null
finish $?
)INIT";


// Adds the file at host path `src` as `dst` in the archive, following symlinks for the content.
Status AddHostFile(CpioWriter& w, const std::string& src, const std::string& dst) {
  if (w.Has(dst)) return Status::Ok();
  TORN_ASSIGN_OR_RETURN(std::string data, ReadFileToString(src));
  struct stat st;
  if (::stat(src.c_str(), &st) != 0) return IoError(src + ": cannot stat");
  w.AddFile(dst, data, st.st_mode & 0777);
  return Status::Ok();
}

}  // namespace

std::string GuestInitScript() { return kInit; }

Result<std::vector<std::string>> SharedLibraries(const std::string& program) {
  SpawnOptions o;
  o.argv = {"ldd", program};
  o.timeout = std::chrono::seconds(30);
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild(o));
  std::vector<std::string> libs;
  if (!r.status.success()) {
    if (r.output.find("not a dynamic executable") != std::string::npos) return libs;
    return Unavailable("ldd " + program + " failed: " + r.output);
  }
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    if (line.find("not found") != std::string::npos) return Unavailable("ldd " + program + ": " + line);
    size_t arrow = line.find("=> ");
    size_t start = arrow == std::string::npos ? line.find('/') : line.find('/', arrow);
    if (start == std::string::npos) continue;  // linux-vdso.so.1
    size_t end = line.find(' ', start);
    libs.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return libs;
}

Result<Initramfs> BuildInitramfs(const Kernel& kernel, const InitramfsSpec& spec) {
  Initramfs out;
  CpioWriter w;
  for (const char* d : {"bin", "dev", "proc", "sys", "tmp", "mnt", "run", "etc/torn", "job"}) w.AddDirectory(d);
  w.AddFile("init", kInit, 0755);

  std::string busybox = FindProgram("busybox");
  if (busybox.empty()) return Unavailable("busybox not found (install busybox-static)");
  TORN_ASSIGN_OR_RETURN(std::vector<std::string> bb_libs, SharedLibraries(busybox));
  if (!bb_libs.empty()) return Unavailable(busybox + " is not static (install busybox-static)");
  TORN_RETURN_IF_ERROR(AddHostFile(w, busybox, "bin/busybox"));

  auto add_program = [&](const std::string& name, bool required) -> Status {
    std::string path = FindProgram(name);
    if (path.empty() || ::access(path.c_str(), X_OK) != 0) {
      if (required) return Unavailable(name + ": not found on this machine (see scripts/install-deps.sh)");
      return Status::Ok();
    }
    // Keep the program at its canonical path (/sbin/x on a merged-/usr system is /usr/sbin/x).
    std::string real = fs::weakly_canonical(path);
    std::string guest = fs::path(real).parent_path().string() + "/" + fs::path(path).filename().string();
    TORN_RETURN_IF_ERROR(AddHostFile(w, real, guest));
    out.programs.push_back(guest);
    TORN_ASSIGN_OR_RETURN(std::vector<std::string> libs, SharedLibraries(path));
    for (const std::string& lib : libs) TORN_RETURN_IF_ERROR(AddHostFile(w, lib, lib));
    return Status::Ok();
  };
  for (const auto& p : spec.programs) TORN_RETURN_IF_ERROR(add_program(p, true));
  for (const auto& p : spec.optional_programs) TORN_RETURN_IF_ERROR(add_program(p, false));

  std::string module_list;
  if (!spec.modules.empty()) {
    if (kernel.modules_dir.empty()) {
      return Unavailable("kernel " + kernel.vmlinuz + " has no modules directory; the lab needs " +
                         spec.modules.front() + " and others as modules or built in");
    }
    TORN_ASSIGN_OR_RETURN(ModuleIndex index, ReadModuleIndex(kernel.modules_dir));
    TORN_ASSIGN_OR_RETURN(std::vector<ModuleFile> files, ResolveModules(index, spec.modules));
    for (const ModuleFile& m : files) {
      TORN_RETURN_IF_ERROR(AddHostFile(w, kernel.modules_dir + "/" + m.path, "lib/modules/" + m.path));
      module_list += (m.optional ? "optional " : "required ") + m.path + "\n";
      out.modules.push_back(m.path);
    }
  }
  w.AddFile("etc/torn/modules", module_list);
  std::string archive = w.Finish();

  std::string hash = HashHex(HashAlgo::kSha256, archive);
  std::string dir = CacheRoot() + "/initramfs";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("create " + dir + ": " + ec.message());
  out.path = dir + "/" + hash + ".cpio";
  if (!fs::exists(out.path, ec)) TORN_RETURN_IF_ERROR(WriteFileAtomic(out.path, archive));
  return out;
}

}  // namespace torn::lab
