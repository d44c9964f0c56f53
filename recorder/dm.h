// device-mapper through libdevmapper, for `torn record --host`: the log-writes target as an RAII
// object (created by Create, removed by the destructor, which makes the kernel append the mark
// "dm-log-writes-end" and write the log's super block), marks sent as target messages, and the check
// that the machine has device-mapper at all.
//
// libdevmapper's own messages go to a buffer, not to stderr: an error names the operation, the device
// and libdevmapper's last words. udev synchronisation is off; the library makes /dev/mapper/NAME.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace torn::recorder {

// Ok when the kernel's device-mapper answers; else kUnavailable with one line saying what is missing.
Status CheckDeviceMapper();

class DmLogWrites {
 public:
  DmLogWrites() = default;
  DmLogWrites(DmLogWrites&& o) noexcept : name_(std::move(o.name_)) { o.name_.clear(); }
  DmLogWrites& operator=(DmLogWrites&&) = delete;
  ~DmLogWrites();

  // Table "0 SECTORS log-writes DEV LOG_DEV" (SECTORS in 512-byte units).
  static Result<DmLogWrites> Create(const std::string& name, const std::string& dev,
                                    const std::string& log_dev, uint64_t sectors);
  std::string path() const { return "/dev/mapper/" + name_; }
  const std::string& name() const { return name_; }
  Status Remove();

 private:
  std::string name_;
};

// `dmsetup message NAME 0 mark LABEL`.
Status SendMark(const std::string& target, const std::string& label);

}  // namespace torn::recorder
