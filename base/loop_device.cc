#include "base/loop_device.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace torn {

LoopDevice& LoopDevice::operator=(LoopDevice&& o) noexcept {
  if (this != &o) {
    (void)Detach();
    path_ = std::move(o.path_);
    o.path_.clear();
    fd_ = std::move(o.fd_);
  }
  return *this;
}

LoopDevice::~LoopDevice() { (void)Detach(); }

Status LoopDevice::Detach() {
  if (!fd_.valid()) return Status::Ok();
  ::fsync(fd_.get());
  int rc = ::ioctl(fd_.get(), LOOP_CLR_FD, 0);
  int err = errno;
  fd_.reset();
  std::string p = std::move(path_);
  path_.clear();
  if (rc != 0 && err != ENXIO) return ErrnoError("detach " + p, err);
  return Status::Ok();
}

Result<LoopDevice> LoopDevice::Attach(const std::string& backing_file, const LoopOptions& options) {
  TORN_ASSIGN_OR_RETURN(UniqueFd backing,
                        OpenFile(backing_file, (options.read_only ? O_RDONLY : O_RDWR) |
                                                   (options.direct_io ? O_DIRECT : 0)));
  TORN_ASSIGN_OR_RETURN(UniqueFd control, OpenFile("/dev/loop-control", O_RDWR));
  // Another process may take the free device between GET_FREE and CONFIGURE: retry.
  for (int attempt = 0; attempt < 16; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return ErrnoError("LOOP_CTL_GET_FREE", errno);
    std::string path = "/dev/loop" + std::to_string(n);
    auto dev = OpenFile(path, options.read_only ? O_RDONLY : O_RDWR);
    if (!dev.ok()) return dev.status();
    struct loop_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.fd = static_cast<__u32>(backing.get());
    cfg.block_size = options.logical_block_size;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (options.read_only ? LO_FLAGS_READ_ONLY : 0) |
                        (options.direct_io ? LO_FLAGS_DIRECT_IO : 0);
    std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), backing_file.c_str(),
                 LO_NAME_SIZE - 1);
    if (::ioctl(dev->get(), LOOP_CONFIGURE, &cfg) == 0) {
      LoopDevice d;
      d.path_ = path;
      d.fd_ = std::move(dev).value();
      return d;
    }
    if (errno != EBUSY) return ErrnoError("attach " + backing_file + " to " + path, errno);
  }
  return IoError("attach " + backing_file + ": no free loop device after 16 attempts");
}

}  // namespace torn
