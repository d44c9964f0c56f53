#include "campaign/record_batch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "base/fd.h"
#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "lab/report_line.h"
#include "recorder/guest_report.h"
#include "trace/expectations.h"
#include "trace/log.h"
#include "trace/log_format.h"
#include "trace/trace_dir.h"

namespace torn::campaign {
namespace fs = std::filesystem;

namespace {

constexpr const char* kJob = R"JOB(# torn fuzz: many workloads per boot (campaign/record_batch.h)
. /job/config
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
DATA=$(blockdev --getsz /dev/vda) || exit 121
SLOT=$((SLOT_BYTES / 512))
mkdir -p /mnt
i=0
while [ $i -lt $COUNT ]; do
  echo "TORN-FUZZ-BEGIN $i" > $TORN_REPORT
  echo "@@torn: workload $i"
  rc=125
  if /usr/sbin/dmsetup create torn-slot --table "0 $SLOT linear /dev/vdb $((i * SLOT))" &&
     /usr/sbin/dmsetup mknodes torn-slot &&
     /usr/sbin/dmsetup create torn-log --table "0 $DATA log-writes /dev/vda /dev/mapper/torn-slot"; then
    /usr/sbin/dmsetup mknodes torn-log
    rc=124
    if $MKFS $MKFS_OPTS /dev/mapper/torn-log >/dev/null && /usr/sbin/dmsetup message torn-log 0 mark mkfs; then
      echo "TORN-MARK mkfs" > $TORN_REPORT
      rc=123
      if mount -t $FS ${MOUNT_OPTS:+-o $MOUNT_OPTS} /dev/mapper/torn-log /mnt; then
        /job/torn-runner --root /mnt --report $TORN_REPORT --target torn-log --umount /job/w/$i
        rc=$?
        umount /mnt 2>/dev/null
      fi
    fi
    n=0
    until /usr/sbin/dmsetup remove torn-log; do
      n=$((n + 1)); [ $n -lt 20 ] || { rc=122; break; }
      sleep 0.2
    done
  fi
  if /usr/sbin/dmsetup info torn-slot >/dev/null 2>&1; then /usr/sbin/dmsetup remove torn-slot || rc=122; fi
  echo "TORN-FUZZ-END $i $rc" > $TORN_REPORT
  [ $rc -eq 122 ] && exit 122
  i=$((i + 1))
done
exit 0
)JOB";

Status MakeSparse(const std::string& path, uint64_t bytes) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return ErrnoError("size " + path, errno);
  return Status::Ok();
}

uint64_t Le64(std::string_view b, uint64_t at) {
  uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

// One workload's part of the report channel.
struct Chunk {
  std::string text;
  bool ended = false;
  int status = -1;
};

std::vector<Chunk> SplitReport(std::string_view report, size_t count) {
  std::vector<Chunk> out(count);
  Chunk* cur = nullptr;
  while (!report.empty()) {
    std::string_view line = lab::NextLine(report);
    std::string_view rest = line;
    std::string_view tag = lab::NextWord(rest);
    if (tag == "TORN-FUZZ-BEGIN") {
      auto i = lab::WholeNumber<uint64_t>(rest);
      cur = i && *i < count ? &out[*i] : nullptr;
    } else if (tag == "TORN-FUZZ-END") {
      auto i = lab::WholeNumber<uint64_t>(lab::NextWord(rest));
      auto st = lab::WholeNumber<uint64_t>(rest);
      if (i && *i < count && st) {
        out[*i].ended = true;
        out[*i].status = static_cast<int>(*st);
      }
      cur = nullptr;
    } else if (cur) {
      cur->text += std::string(line) + "\n";
    }
  }
  return out;
}

}  // namespace

Result<uint64_t> LogLength(std::string_view b) {
  if (b.size() < trace::kSuperSize) return Truncated("no log super block");
  if (Le64(b, trace::kSuperMagic) != trace::kLogMagic) return BadInput("no dm-log-writes log (bad magic)");
  uint64_t n = Le64(b, trace::kSuperNrEntries);
  uint32_t ss;
  std::memcpy(&ss, b.data() + trace::kSuperSectorSize, 4);
  if (ss < trace::kMinSectorSize || ss > trace::kMaxSectorSize || (ss & (ss - 1)))
    return BadInput("bad sector size " + std::to_string(ss));
  uint64_t end = ss;
  for (uint64_t i = 0; i < n; ++i) {
    if (end + ss > b.size()) return Truncated("entry " + std::to_string(i) + " runs past the slot");
    uint64_t nr = Le64(b, end + trace::kEntryNrSectors), flags = Le64(b, end + trace::kEntryFlags);
    end += ss;
    if (!(flags & trace::kFlagDiscard)) {
      if (nr > trace::kMaxEntryBytes / ss) return BadInput("entry " + std::to_string(i) + ": too many sectors");
      end += nr * ss;
    }
    if (end > b.size()) return Truncated("entry " + std::to_string(i) + "'s data runs past the slot");
  }
  return end;
}

Result<std::string> RunnerPath() {
  if (const char* env = std::getenv("TORN_RUNNER"); env && *env) {
    if (::access(env, X_OK) == 0) return std::string(env);
    return Unavailable(std::string("$TORN_RUNNER ") + env + ": not an executable");
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> tries;
  if (!ec) {
    tries.push_back(self.parent_path() / "torn-runner");
    tries.push_back(self.parent_path().parent_path() / "workload" / "torn-runner");
  }
#ifdef TORN_RUNNER_BUILT
  tries.push_back(TORN_RUNNER_BUILT);
#endif
  for (const auto& p : tries)
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  return Unavailable("torn-runner not found beside torn (build the torn-runner target, or set $TORN_RUNNER)");
}

Result<BatchResult> RecordBatch(const BatchOptions& o, const std::vector<BatchItem>& items) {
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](std::string_view s) {
    if (o.on_progress) o.on_progress(s);
  };
  if (items.empty()) return BatchResult{};
  if (o.fs != "ext4") return BadInput("torn fuzz records ext4 only for now (--fs " + o.fs + ")");
  std::string runner = o.runner;
  if (runner.empty()) {
    TORN_ASSIGN_OR_RETURN(runner, RunnerPath());
  }
  TORN_ASSIGN_OR_RETURN(std::string runner_bytes, ReadFileToString(runner));
  Result<lab::Kernel> kernel = o.kernel_image.empty() ? lab::DebianKernel(progress)
                                                      : lab::KernelFromImage(o.kernel_image, progress);
  if (!kernel.ok()) return kernel.status().with_context("guest kernel");
  lab::InitramfsSpec spec;
  spec.programs = {"dmsetup", "mke2fs", "e2fsck"};
  spec.modules = {"virtio_pci", "virtio_blk", "dm-mod", "dm-log-writes", "ext4"};
  TORN_ASSIGN_OR_RETURN(lab::Initramfs initramfs, lab::BuildInitramfs(*kernel, spec));
  std::string mkfs;
  for (const auto& p : initramfs.programs)
    if (fs::path(p).filename() == "mke2fs") mkfs = p + " -q -F -t ext4";

  TORN_ASSIGN_OR_RETURN(TempDir work, TempDir::Create("torn-fuzz-rec-"));
  std::string data = work.path() + "/data.img", log_img = work.path() + "/log.img";
  TORN_RETURN_IF_ERROR(MakeSparse(data, o.device_bytes));
  TORN_RETURN_IF_ERROR(MakeSparse(log_img, kSlotBytes * items.size()));

  lab::GuestSpec g;
  g.kernel = *kernel;
  g.initramfs = initramfs;
  g.script = kJob;
  auto assign = [](const std::string& n, const std::string& v) {
    return n + "=" + (v.empty() ? std::string("''") : QuoteArgv({v})) + "\n";
  };
  g.files = {{"config", assign("FS", o.fs) + assign("MKFS", mkfs) + assign("MKFS_OPTS", o.mkfs_opts) +
                            assign("MOUNT_OPTS", o.mount_opts) + assign("COUNT", std::to_string(items.size())) +
                            assign("SLOT_BYTES", std::to_string(kSlotBytes))},
             {"torn-runner", runner_bytes, 0755}};
  for (size_t i = 0; i < items.size(); ++i) g.files.push_back({"w/" + std::to_string(i), items[i].workload});
  g.disks = {{data, o.sector}, {log_img, 512}};
  g.timeout = o.timeout;
  g.accel = o.accel;
  g.on_console = o.on_console;
  g.on_progress = o.on_progress;
  progress("booting " + kernel->description + " for " + std::to_string(items.size()) + " workloads");
  TORN_ASSIGN_OR_RETURN(lab::GuestResult run, lab::RunGuest(g));
  if (run.outcome.outcome == lab::Outcome::kInterrupted) return Status(Code::kInterrupted, "interrupted");

  BatchResult r;
  r.boot_seconds = run.boot_seconds;
  r.guest_seconds = run.seconds;
  r.accel = run.accel;
  r.console = lab::ConsoleTail(run.console, 60);
  std::string guest_end = run.outcome.ok() ? "" : " (the guest: " + run.outcome.describe() + ")";
  for (std::string_view err : {"Ran out of space on the logdev", "Error writing log block"}) {
    if (run.console.find(err) != std::string::npos)
      return IoError("dm-log-writes stopped logging: \"" + std::string(err) + "\"");
  }
  auto chunks = SplitReport(run.report, items.size());
  UniqueFd log_fd;
  TORN_ASSIGN_OR_RETURN(log_fd, OpenFile(log_img, O_RDONLY));
  for (size_t i = 0; i < items.size(); ++i) {
    ItemResult item;
    const Chunk& c = chunks[i];
    auto done = [&](Status st) {
      item.status = std::move(st);
      r.items.push_back(std::move(item));
    };
    if (!c.ended) {
      done(BadInput("the guest did not finish this workload" + guest_end));
      continue;
    }
    item.runner_exit = c.status;
    {
      std::string_view rest = c.text;
      while (!rest.empty()) {
        std::string_view line = lab::NextLine(rest);
        if (line.starts_with("TORN-OP-FAILED ")) item.op_failures.emplace_back(line.substr(15));
      }
    }
    if (c.status != 0 && c.status != 1) {
      done(BadInput("the guest's recording of this workload failed (status " + std::to_string(c.status) +
                    ": 2 bad workload, 3 mark or report, 122-125 setup)"));
      continue;
    }
    std::string slot(kSlotBytes, '\0');
    ssize_t got = ::pread(log_fd.get(), slot.data(), slot.size(), static_cast<off_t>(i * kSlotBytes));
    if (got != static_cast<ssize_t>(slot.size())) {
      done(IoError("cannot read slot " + std::to_string(i) + " of the log disk"));
      continue;
    }
    auto len = LogLength(slot);
    if (!len.ok()) {
      done(len.status().with_context("slot " + std::to_string(i)));
      continue;
    }
    std::string plain = work.path() + "/log-" + std::to_string(i);
    if (auto st = WriteFileAtomic(plain, std::string_view(slot).substr(0, *len)); !st.ok()) {
      done(st);
      continue;
    }
    slot.clear();
    slot.shrink_to_fit();
    auto log = trace::Log::Open(plain, {.device_bytes = o.device_bytes});
    if (!log.ok()) {
      done(log.status().with_context("the recorded log"));
      continue;
    }
    auto report = recorder::ParseGuestReport(c.text);
    if (!report.ok()) {
      done(report.status());
      continue;
    }
    std::vector<std::string> in_log;
    for (const auto& m : log->marks()) in_log.push_back(m.name);
    if (in_log.empty() || in_log.back() != trace::kEndMark) {
      done(BadInput("the log does not end with dm-log-writes-end"));
      continue;
    }
    in_log.pop_back();
    if (in_log != report->marks) {
      done(BadInput("the log's marks differ from the marks the runner sent"));
      continue;
    }
    nlohmann::json source = {
        {"how", "fuzz"},          {"kernel", kernel->description}, {"kernel_release", kernel->release},
        {"fs", o.fs},             {"mkfs_opts", o.mkfs_opts},      {"mount_opts", o.mount_opts},
        {"sectorsize", o.sector}, {"device_bytes", o.device_bytes}, {"workload", items[i].workload},
        {"workload_language", "torn fuzz (workload/op.h)"},         {"torn_version", TORN_VERSION},
        {"accel", run.accel},
    };
    Status st = trace::WriteTraceDir(*log, items[i].out, source, /*overwrite=*/true);
    if (st.ok())
      st = WriteFileAtomic(items[i].out + "/" + trace::kExpectationsFile,
                           trace::ExpectationsToJson(report->manifests).dump(2) + "\n");
    if (st.ok()) st = WriteFileAtomic(items[i].out + "/workload.txt", items[i].workload);
    item.entries = log->size();
    ::unlink(plain.c_str());
    done(st);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace torn::campaign
