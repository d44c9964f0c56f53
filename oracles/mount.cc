#include "oracles/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/loop_device.h"
#include "base/mount.h"
#include "base/temp_file.h"

namespace torn::oracles {

Status HostMountAvailable() {
  if (::geteuid() != 0) return Unavailable("--host-mount needs root (loop devices and mount(2))");
  if (::access("/dev/loop-control", R_OK | W_OK) != 0)
    return Unavailable("--host-mount needs /dev/loop-control");
  return Status::Ok();
}

Result<Verdict> CheckMount(const std::string& image, const std::string& scratch_dir, const FsckOptions& fsck) {
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
  {
    TORN_ASSIGN_OR_RETURN(LoopDevice loop, LoopDevice::Attach(copy.path()));
    auto m = Mount::Create(loop.path(), dir.path(), "ext4", "errors=remount-ro",
                           MS_NOATIME | MS_NODEV | MS_NOSUID | MS_NOEXEC);
    if (!m.ok()) {
      v.ok = false;
      v.detail = "kernel mount failed: " + m.status().message();
      v.output = v.detail + "\n";
      return v;
    }
    v.output += "mounted " + loop.path() + " (kernel journal replay), unmounting\n";
    TORN_RETURN_IF_ERROR(m->Unmount());
    TORN_RETURN_IF_ERROR(loop.Detach());
  }
  FsckOptions after = fsck;
  after.journal_replay = false;
  TORN_ASSIGN_OR_RETURN(Verdict f, RunFsck(copy.path(), after));
  v.output += f.output;
  if (!f.ok) {
    v.ok = false;
    v.detail = "after the kernel's journal replay: " + f.detail;
  }
  return v;
}

}  // namespace torn::oracles
