#include "recorder/dm.h"

#include <libdevmapper.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <memory>

namespace torn::recorder {
namespace {

thread_local std::string g_last_error;

void LogToBuffer(int level, const char*, int, int, const char* f, ...) {
  if (level > 3) return;  // errors and warnings only (_LOG_ERR is 3)
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  g_last_error = buf;
}

void Quiet() {
  static bool once = [] {
    dm_log_with_errno_init(LogToBuffer);
    dm_udev_set_sync_support(0);
    return true;
  }();
  (void)once;
  g_last_error.clear();
}

struct TaskFree {
  void operator()(dm_task* t) const { dm_task_destroy(t); }
};
using Task = std::unique_ptr<dm_task, TaskFree>;

Status DmError(const std::string& what) {
  return IoError(what + (g_last_error.empty() ? "" : ": " + g_last_error));
}

}  // namespace

Status CheckDeviceMapper() {
  Quiet();
  if (::access("/dev/mapper/control", F_OK) != 0) {
    return Unavailable(
        "device-mapper is not available on this machine (no /dev/mapper/control: the kernel has no "
        "dm-mod, or it is not loaded; try `modprobe dm-log-writes`, or record in the lab VM with --vm)");
  }
  char version[64] = {};
  if (!dm_driver_version(version, sizeof version)) {
    return Unavailable("device-mapper does not answer (" + g_last_error +
                       "); record in the lab VM with --vm instead");
  }
  return Status::Ok();
}

Result<DmLogWrites> DmLogWrites::Create(const std::string& name, const std::string& dev,
                                        const std::string& log_dev, uint64_t sectors) {
  Quiet();
  Task t(dm_task_create(DM_DEVICE_CREATE));
  if (!t) return DmError("dm_task_create");
  std::string params = dev + " " + log_dev;
  if (!dm_task_set_name(t.get(), name.c_str()) ||
      !dm_task_add_target(t.get(), 0, sectors, "log-writes", params.c_str()) || !dm_task_run(t.get())) {
    return DmError("create device-mapper target " + name + " (log-writes " + params + ")");
  }
  DmLogWrites d;
  d.name_ = name;
  return d;
}

Status DmLogWrites::Remove() {
  if (name_.empty()) return Status::Ok();
  Quiet();
  // A target just released may still be busy for a moment (a closing fd, a scanning tool): retry.
  for (int i = 0; i < 20; ++i) {
    Task t(dm_task_create(DM_DEVICE_REMOVE));
    if (!t || !dm_task_set_name(t.get(), name_.c_str())) return DmError("remove " + name_);
    if (dm_task_run(t.get())) {
      name_.clear();
      return Status::Ok();
    }
    ::usleep(250000);
  }
  return DmError("remove device-mapper target " + name_ + " (still in use?)");
}

DmLogWrites::~DmLogWrites() { (void)Remove(); }

Status SendMark(const std::string& target, const std::string& label) {
  Quiet();
  Task t(dm_task_create(DM_DEVICE_TARGET_MSG));
  std::string message = "mark " + label;
  if (!t || !dm_task_set_name(t.get(), target.c_str()) || !dm_task_set_sector(t.get(), 0) ||
      !dm_task_set_message(t.get(), message.c_str()) || !dm_task_run(t.get())) {
    return DmError("send mark " + label + " to " + target);
  }
  return Status::Ok();
}

}  // namespace torn::recorder
