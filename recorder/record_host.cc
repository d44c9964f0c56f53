#include "recorder/record_host.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "base/block_device.h"
#include "base/fd.h"
#include "base/subprocess.h"
#include "recorder/dm.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::recorder {
namespace fs = std::filesystem;

namespace {

Status CheckDevice(const std::string& flag, const std::string& path) {
  if (path.empty()) return BadInput(flag + " is required");
  auto info = InspectPath(path);
  if (!info.ok()) return info.status().with_context(flag);
  if (!info->is_block) return BadInput(flag + " " + path + ": not a block device");
  if (!info->mounted_at.empty()) {
    return BadInput(flag + " " + path + ": refusing a mounted device (mounted at " + info->mounted_at + ")");
  }
  // O_EXCL on a block device fails while anything holds it (a mount, a dm table, an md array).
  auto fd = OpenFile(path, O_RDONLY | O_EXCL);
  if (!fd.ok()) return BadInput(flag + " " + path + ": in use (" + fd.status().message() + ")");
  return Status::Ok();
}

std::string SelfDir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

Status CheckHostRecordArgs(const HostRecordOptions& o) {
  std::error_code ec;
  if (o.dev == o.log_dev || fs::equivalent(o.dev, o.log_dev, ec)) {
    return BadInput("--dev and --log-dev are the same device");
  }
  TORN_RETURN_IF_ERROR(CheckDevice("--dev", o.dev));
  TORN_RETURN_IF_ERROR(CheckDevice("--log-dev", o.log_dev));
  if (o.command.empty()) return BadInput("no command: torn record --host ... -- CMD [ARGS...]");
  if (o.out.empty()) return BadInput("--out is required");
  if (!o.overwrite && fs::exists(o.out + "/" + trace::kDescriptionFile, ec)) {
    return BadInput(o.out + ": already holds a trace; choose another --out or pass --overwrite");
  }
  return Status::Ok();
}

Result<HostRecordResult> RecordOnHost(const HostRecordOptions& o) {
  TORN_RETURN_IF_ERROR(CheckHostRecordArgs(o));
  TORN_RETURN_IF_ERROR(CheckDeviceMapper());
  uint64_t bytes = 0;
  {
    TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(o.dev, O_RDONLY));
    TORN_ASSIGN_OR_RETURN(bytes, FileSize(fd.get()));
  }
  std::string name = "torn-rec-" + std::to_string(::getpid());
  {
    TORN_ASSIGN_OR_RETURN(DmLogWrites target, DmLogWrites::Create(name, o.dev, o.log_dev, bytes / 512));
    SpawnOptions s;
    s.argv = o.command;
    s.env = {"DEV=" + target.path(), "TORN_DM_TARGET=" + name,
             "PATH=" + SelfDir() + ":" + (::getenv("PATH") ? ::getenv("PATH") : "/usr/bin:/bin")};
    s.inherit_output = true;
    s.timeout = o.timeout;
    TORN_ASSIGN_OR_RETURN(RunResult run, RunChild(s));
    if (run.status.how == ExitStatus::How::kInterrupted) return Status(Code::kInterrupted, "interrupted");
    if (!run.status.success()) {
      return BadInput("recording failed: " + QuoteArgv(o.command) + ": " + run.status.describe());
    }
    TORN_RETURN_IF_ERROR(target.Remove());
  }
  TORN_ASSIGN_OR_RETURN(trace::Log log, trace::Log::Open(o.log_dev, {.device_bytes = bytes}));
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json source = {{"how", "record --host"}, {"dev", o.dev},          {"log_dev", o.log_dev},
                           {"command", QuoteArgv(o.command)}, {"device_bytes", bytes},
                           {"sectorsize", log.sectorsize()},  {"torn_version", TORN_VERSION},
                           {"time", when}};
  TORN_RETURN_IF_ERROR(trace::WriteTraceDir(log, o.out, source, o.overwrite));
  return HostRecordResult{log.size(), log.marks().size()};
}

}  // namespace torn::recorder
