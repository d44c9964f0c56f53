// A file system mounted by torn, unmounted by the destructor (lazily if it is busy, so an unwinding
// stack never leaves a mount behind). Mount points are directories the caller owns (a TempDir).
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

  // mount(2): source on target with type fstype, the comma-separated options `data`, and MS_* flags
  // (MS_RDONLY, MS_NODEV, ...; an image from a crash state is untrusted: mount it nodev,nosuid,noexec).
  static Result<Mount> Create(const std::string& source, const std::string& target,
                              const std::string& fstype, const std::string& data = "",
                              unsigned long flags = 0);
  const std::string& target() const { return target_; }
  Status Unmount();

 private:
  std::string target_;
};

}  // namespace torn
