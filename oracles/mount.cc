#include "oracles/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/loop_device.h"
#include "base/mount.h"
#include "base/temp_file.h"
#include "oracles/kernel_log.h"
#include "oracles/tree_walk.h"

namespace torn::oracles {

Status HostMountAvailable() {
  if (::geteuid() != 0) return Unavailable("--host-mount needs root (loop devices and mount(2))");
  if (::access("/dev/loop-control", R_OK | W_OK) != 0)
    return Unavailable("--host-mount needs /dev/loop-control");
  return Status::Ok();
}

Result<Verdict> CheckMount(const std::string& image, const std::string& scratch_dir, const FsckOptions& fsck,
                           std::chrono::seconds walk_time, const AfterKernel& after,
                           std::vector<Verdict>* after_verdicts) {
  TORN_RETURN_IF_ERROR(HostMountAvailable());
  Verdict v;
  v.oracle = Oracle::kMount;
  TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-mount-", scratch_dir));
  {
    TORN_ASSIGN_OR_RETURN(UniqueFd src, OpenFile(image, O_RDONLY));
    TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileSize(src.get()));
    TORN_RETURN_IF_ERROR(SparseCopy(src.get(), copy.fd(), bytes).with_context(image));
  }
  TORN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("torn-mnt-"));
  TORN_ASSIGN_OR_RETURN(KernelLog klog, KernelLog::Open());
  std::string ext4_error;
  {
    TORN_ASSIGN_OR_RETURN(LoopDevice loop, LoopDevice::Attach(copy.path()));
    const std::string device = loop.path().substr(loop.path().rfind('/') + 1);  // loopN
    // What the kernel said about this device (several workers may mount at once, each on its own).
    auto kernel_lines = [&] {
      std::vector<std::string> lines = LinesAbout(klog.Read(), device);
      for (const std::string& l : lines) {
        v.output += "kernel: " + l + "\n";
        if (ext4_error.empty() && l.find("EXT4-fs error") != std::string::npos) ext4_error = l;
      }
    };
    auto m = Mount::Create(loop.path(), dir.path(), "ext4", "errors=remount-ro",
                           MS_NOATIME | MS_NODEV | MS_NOSUID | MS_NOEXEC);
    if (!m.ok()) {
      v.ok = false;
      v.detail = "kernel mount failed: " + m.status().message();
      v.output = v.detail + "\n";
      kernel_lines();
      if (!ext4_error.empty()) v.detail += " (kernel: " + ext4_error + ")";
      return v;
    }
    v.output += "mounted " + loop.path() + " (kernel journal replay), walking the tree\n";
    WalkResult walk = WalkTree(dir.path(), {.time = walk_time});
    for (const std::string& e : walk.errors) v.output += "walk: " + e + "\n";
    if (walk.more_errors) v.output += "walk: … " + std::to_string(walk.more_errors) + " more errors\n";
    v.output += "walked " + std::to_string(walk.entries) + " entries, read " + std::to_string(walk.files_read) +
                " files (" + std::to_string(walk.bytes_read) + " bytes)" + (walk.cut.empty() ? "" : ", cut: " + walk.cut) +
                "; unmounting\n";
    TORN_RETURN_IF_ERROR(m->Unmount());
    TORN_RETURN_IF_ERROR(loop.Detach());
    kernel_lines();
    if (!ext4_error.empty()) {
      v.ok = false;
      v.detail = "kernel reported an ext4 error during mount/walk/umount on this machine: " + ext4_error;
    } else if (!walk.errors.empty()) {
      v.ok = false;
      v.detail = "walking the mounted tree failed on this machine: " + walk.errors.front();
    } else if (!walk.cut.empty()) {
      v.ok = false;
      v.detail = "walking the mounted tree was cut short on this machine: " + walk.cut;
    }
  }
  FsckOptions full = fsck;
  full.journal_replay = false;
  TORN_ASSIGN_OR_RETURN(Verdict f, RunFsck(copy.path(), full));
  if (after) {
    TORN_ASSIGN_OR_RETURN(*after_verdicts, after(copy.path(), f));
  }
  v.output += f.output;
  if (!f.ok && v.ok) {
    v.ok = false;
    v.detail = "after the kernel's journal replay: " + f.detail;
  }
  return v;
}

}  // namespace torn::oracles
