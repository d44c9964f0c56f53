// What torn may write to. The rule (README, "Safety"): never a block device that is not a loop device,
// never a mounted or otherwise held device, unless the user forces it. Regular files are always fine.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/status.h"

namespace torn {

struct DeviceInfo {
  bool is_block = false;
  bool is_loop = false;
  unsigned major = 0, minor = 0;
  std::string mounted_at;  // a mount point using the device, if any
};

Result<DeviceInfo> InspectPath(const std::string& path);

// Opens path for writing. A block device must be a loop device that is not mounted (and is opened with
// O_EXCL, which the kernel refuses while it is mounted or held); `force` lifts the loop requirement
// but never the mounted check's message, only its refusal.
Result<UniqueFd> OpenForWriting(const std::string& path, bool force);

}  // namespace torn
