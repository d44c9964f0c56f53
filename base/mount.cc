#include "base/mount.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

namespace torn {

Mount& Mount::operator=(Mount&& o) noexcept {
  if (this != &o) {
    (void)Unmount();
    target_ = std::move(o.target_);
    o.target_.clear();
  }
  return *this;
}

Mount::~Mount() {
  if (!target_.empty() && ::umount2(target_.c_str(), 0) != 0) ::umount2(target_.c_str(), MNT_DETACH);
}

Result<Mount> Mount::Create(const std::string& source, const std::string& target, const std::string& fstype,
                            const std::string& data, unsigned long flags) {
  if (::mount(source.c_str(), target.c_str(), fstype.c_str(), flags, data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoError("mount " + source + " on " + target + " (" + fstype + ")", errno);
  }
  Mount m;
  m.target_ = target;
  return m;
}

Status Mount::Unmount() {
  if (target_.empty()) return Status::Ok();
  // EBUSY can be transient: a child forked by another thread holds copies of our fds on the mount
  // until its exec closes them (O_CLOEXEC), so wait a little for that before giving up.
  for (int tries = 0; ::umount2(target_.c_str(), 0) != 0; ++tries) {
    if (errno != EBUSY || tries == 200) return ErrnoError("unmount " + target_, errno);
    ::usleep(10'000);
  }
  target_.clear();
  return Status::Ok();
}

}  // namespace torn
