#include "base/block_device.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace torn {
namespace {

constexpr unsigned kLoopMajor = 7;

// /proc/self/mountinfo field 3 is "major:minor" of the mounted device; field 5 the mount point.
std::string FindMount(unsigned major, unsigned minor) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, want = std::to_string(major) + ":" + std::to_string(minor);
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string id, parent, devno, root, mountpoint;
    ls >> id >> parent >> devno >> root >> mountpoint;
    if (devno == want) return mountpoint;
  }
  return {};
}

}  // namespace

Result<DeviceInfo> InspectPath(const std::string& path) {
  struct stat st;
  DeviceInfo info;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return info;  // a new file
    return ErrnoError(path, errno);
  }
  if (!S_ISBLK(st.st_mode)) return info;
  info.is_block = true;
  info.major = ::major(st.st_rdev);
  info.minor = ::minor(st.st_rdev);
  std::string sys = "/sys/dev/block/" + std::to_string(info.major) + ":" + std::to_string(info.minor);
  info.is_loop = info.major == kLoopMajor || ::access((sys + "/loop").c_str(), F_OK) == 0;
  info.mounted_at = FindMount(info.major, info.minor);
  return info;
}

Result<UniqueFd> OpenForWriting(const std::string& path, bool force) {
  TORN_ASSIGN_OR_RETURN(DeviceInfo info, InspectPath(path));
  if (!info.is_block) {
    return OpenFile(path, O_RDWR | O_CREAT);
  }
  if (!info.is_loop && !force) {
    return BadInput(path + ": refusing to write to a block device that is not a loop device; "
                    "use an image file or a loop device, or pass --force");
  }
  if (!info.mounted_at.empty() && !force) {
    return BadInput(path + ": refusing to write to a mounted device (mounted at " + info.mounted_at +
                    "); unmount it or pass --force");
  }
  int flags = O_RDWR | (force ? 0 : O_EXCL);
  auto fd = OpenFile(path, flags);
  if (!fd.ok() && !force) {
    return BadInput(path + ": device is busy (mounted or held by another user): " +
                    fd.status().message());
  }
  return fd;
}

}  // namespace torn
