// A loop device that torn attached itself, detached by the destructor (and set to autoclear, so the
// kernel detaches it even if torn is killed with -9 once the last user closes it).
#pragma once

#include <string>

#include "base/fd.h"
#include "base/status.h"

namespace torn {

struct LoopOptions {
  bool read_only = false;
  bool direct_io = false;
  unsigned logical_block_size = 0;  // 0: the kernel's default (512)
};

class LoopDevice {
 public:
  LoopDevice() = default;
  LoopDevice(LoopDevice&& o) noexcept : path_(std::move(o.path_)), fd_(std::move(o.fd_)) { o.path_.clear(); }
  LoopDevice& operator=(LoopDevice&& o) noexcept;
  ~LoopDevice();

  static Result<LoopDevice> Attach(const std::string& backing_file, const LoopOptions& options = {});
  const std::string& path() const { return path_; }  // /dev/loopN
  int fd() const { return fd_.get(); }
  Status Detach();

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace torn
