// A mount that torn made itself, unmounted by the destructor (lazily if it is busy), so an error or
// an interrupt never leaves a file system mounted. mount(2) directly: no mount(8), no shell.
#pragma once

#include <string>

#include "base/status.h"

namespace torn {

class Mount {
 public:
  Mount() = default;
  Mount(Mount&& o) noexcept : target_(std::move(o.target_)) { o.target_.clear(); }
  Mount& operator=(Mount&& o) noexcept;
  ~Mount();

  // mount(2) of `source` (a block device) on `target` with the file-system type and data options.
  static Result<Mount> Create(const std::string& source, const std::string& target,
                              const std::string& fstype, unsigned long flags = 0,
                              const std::string& data = "");
  const std::string& target() const { return target_; }
  Status Unmount();

 private:
  std::string target_;
};

}  // namespace torn
