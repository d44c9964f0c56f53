#include "gate/outer_fs.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <fmt/core.h>

#include "base/fd.h"
#include "base/loop_device.h"
#include "base/mount.h"
#include "base/sparse_file.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "oracles/kernel_log.h"

namespace torn::gate {
namespace {

using oracles::Oracle;
using oracles::Verdict;

// Every crash state of one run has the same btrfs fsid: a second image of it on another loop device,
// mounted or scanned by `btrfs check` while the first is mounted, would be taken for the same file
// system. One btrfs image at a time in this process.
std::mutex btrfs_mu;

// The line of a checker's output that says what is wrong: the first naming a problem, else the last.
std::string ProblemLine(std::string_view output) {
  std::string last;
  size_t at = 0;
  while (at < output.size()) {
    size_t end = output.find('\n', at);
    if (end == std::string_view::npos) end = output.size();
    std::string line(output.substr(at, end - at));
    at = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // xfs_repair on an image file in a file system it cannot size says so: noise, not a finding.
    if (line.starts_with("Cannot get host filesystem geometry") || line.starts_with("Repair may fail") ||
        line.starts_with("the image and the host filesystem"))
      continue;
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* w : {"error", "corrupt", "bad ", "invalid", "mismatch", "couldn't", "cannot", "unable"})
      if (lower.find(w) != std::string::npos) return line;
    last = line;
  }
  return last;
}

// xfs_repair -n / btrfs check --readonly on `image`: the fsck verdict (any exit but 0 fails). The
// detail names the command without the image (the same for every state).
Result<Verdict> RunChecker(std::vector<std::string> argv, const std::string& image, const OuterFsOptions& o) {
  if (FindProgram(argv[0]).empty())
    return Unavailable(argv[0] + " is not installed (scripts/install-deps.sh: xfsprogs, btrfs-progs)");
  std::string name = QuoteArgv(argv);
  argv.push_back(image);
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild({.argv = argv, .timeout = o.timeout}));
  if (r.status.how == ExitStatus::How::kInterrupted) return Status(Code::kInterrupted, "interrupted");
  Verdict v{Oracle::kFsck, r.status.success(), "", "$ " + QuoteArgv(argv) + "\n" + r.output};
  if (!v.ok) v.detail = fmt::format("{}: {}: {}", name, r.status.describe(), ProblemLine(r.output));
  return v;
}

// Copies the file `from` (on the mounted outer file system) to `to`: a failing data verdict when the
// kernel cannot give it (missing, unreadable); an error when `to` cannot be written.
Result<Verdict> CopyBacking(const std::string& from, const std::string& backing, const std::string& to) {
  Verdict v{Oracle::kData, true, "", ""};
  auto fail = [&](const Status& st) {
    // The message names the file under this run's mount point: name it $MNT/backing instead, the same
    // for every state (triage groups by the detail's words).
    std::string why = st.message();
    for (size_t at; (at = why.find(from)) != std::string::npos;) why.replace(at, from.size(), "$MNT/" + backing);
    v.ok = false;
    v.detail = fmt::format("the backing file {} cannot be read from the recovered outer file system: {}",
                           backing, why);
    v.output = v.detail + "\n";
    return v;
  };
  auto src = OpenFile(from, O_RDONLY);
  if (!src.ok()) return fail(src.status());
  auto bytes = FileSize(src->get());
  if (!bytes.ok()) return fail(bytes.status());
  TORN_ASSIGN_OR_RETURN(UniqueFd dst, OpenFile(to, O_WRONLY | O_CREAT | O_TRUNC));
  Status copied = SparseCopy(src->get(), dst.get(), *bytes);
  // A read error is the kernel's (EIO on a damaged file system); anything else is ours.
  if (!copied.ok() && copied.code() == Code::kIo) return fail(copied);
  TORN_RETURN_IF_ERROR(copied.with_context("copy " + backing + " to " + to));
  return v;
}

struct Recovered {
  TempFile copy;         // the image as the kernel's recovery left it
  bool mounted = false;
};

// A sparse copy of `image` attached to a loop device and mounted (the kernel's log recovery), the
// backing file copied out, unmounted, detached. A failed mount or copy adds a verdict to `out`.
Result<Recovered> RecoverAndCopyOut(OuterFs fs, const std::string& image, const std::string& backing,
                                    const std::string& backing_out, const OuterFsOptions& o, OuterVerdicts& out) {
  Recovered r;
  TORN_ASSIGN_OR_RETURN(r.copy, TempFile::Create("torn-gate-outer-", o.scratch_dir));
  {
    TORN_ASSIGN_OR_RETURN(UniqueFd src, OpenFile(image, O_RDONLY));
    TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileSize(src.get()));
    TORN_RETURN_IF_ERROR(SparseCopy(src.get(), r.copy.fd(), bytes).with_context("copy " + image));
  }
  TORN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("torn-gate-mnt-"));
  auto klog = oracles::KernelLog::Open();  // the kernel's words, when this process may read them
  TORN_ASSIGN_OR_RETURN(LoopDevice loop, LoopDevice::Attach(r.copy.path()));
  const std::string device = loop.path().substr(loop.path().rfind('/') + 1);
  std::string fstype(OuterFsName(fs));
  auto m = Mount::Create(loop.path(), dir.path(), fstype, fs == OuterFs::kXfs ? "nouuid" : "",
                         MS_NOATIME | MS_NODEV | MS_NOSUID | MS_NOEXEC);
  if (!m.ok()) {
    // The message names this run's mount point: say $MNT instead.
    std::string why = m.status().message();
    if (size_t at = why.find(dir.path()); at != std::string::npos) why.replace(at, dir.path().size(), "$MNT");
    Verdict v{Oracle::kMount, false,
              fmt::format("kernel mount failed ({}): {}",
                          fs == OuterFs::kXfs ? "the kernel's xfs log recovery" : "btrfs, log tree replay", why),
              ""};
    v.output = v.detail + "\n";
    std::vector<std::string> lines = klog.ok() ? oracles::LinesAbout(klog->Read(), device) : std::vector<std::string>{};
    for (const std::string& l : lines) v.output += "kernel: " + l + "\n";
    if (!lines.empty()) v.detail += " (kernel: " + lines.back() + ")";
    out.failed.push_back(std::move(v));
    return r;
  }
  r.mounted = true;
  TORN_ASSIGN_OR_RETURN(Verdict data, CopyBacking(dir.path() + "/" + backing, backing, backing_out));
  if (data.ok) out.extracted = true;
  else out.failed.push_back(std::move(data));
  TORN_RETURN_IF_ERROR(m->Unmount());
  TORN_RETURN_IF_ERROR(loop.Detach());
  return r;
}

}  // namespace

Result<OuterFs> ParseOuterFs(std::string_view s) {
  if (s == "ext4") return OuterFs::kExt4;
  if (s == "xfs") return OuterFs::kXfs;
  if (s == "btrfs") return OuterFs::kBtrfs;
  return BadInput("--outer '" + std::string(s) + "': use ext4, xfs or btrfs");
}

std::string_view OuterFsName(OuterFs fs) {
  switch (fs) {
    case OuterFs::kExt4: return "ext4";
    case OuterFs::kXfs: return "xfs";
    case OuterFs::kBtrfs: return "btrfs";
  }
  return "?";
}

uint64_t DefaultDeviceBytes(OuterFs fs) {
  switch (fs) {
    case OuterFs::kExt4: return 96ull << 20;
    case OuterFs::kXfs: return 320ull << 20;
    case OuterFs::kBtrfs: return 128ull << 20;
  }
  return 96ull << 20;
}

Result<std::string> NoBarrierMountOptions(OuterFs fs) {
  switch (fs) {
    case OuterFs::kExt4: return std::string("barrier=0");
    case OuterFs::kBtrfs: return std::string("nobarrier");
    case OuterFs::kXfs: break;
  }
  return BadInput("--inject outer-nobarrier: xfs has no nobarrier mount option since Linux 4.19 (a loop "
                  "driver that loses flushes shows the gate failing instead: docs/gate.md, \"--outer\")");
}

Result<OuterVerdicts> JudgeOuterFs(OuterFs fs, const std::string& image, const std::string& backing,
                                   const std::string& backing_out, const OuterFsOptions& o) {
  if (fs == OuterFs::kExt4) return Status(Code::kInternal, "JudgeOuterFs: ext4 is judged by gate/check.cc");
  OuterVerdicts out;
  std::unique_lock<std::mutex> serial(btrfs_mu, std::defer_lock);
  if (fs == OuterFs::kBtrfs) {
    serial.lock();
    TORN_ASSIGN_OR_RETURN(Verdict check, RunChecker({"btrfs", "check", "--readonly"}, image, o));
    if (!check.ok) out.failed.push_back(std::move(check));
  }
  TORN_ASSIGN_OR_RETURN(Recovered r, RecoverAndCopyOut(fs, image, backing, backing_out, o, out));
  if (fs == OuterFs::kXfs && r.mounted) {
    // After the kernel's log recovery and a clean unmount the log is empty: xfs_repair judges it all.
    TORN_ASSIGN_OR_RETURN(Verdict repair, RunChecker({"xfs_repair", "-n", "-f"}, r.copy.path(), o));
    if (!repair.ok) out.failed.insert(out.failed.begin(), std::move(repair));
  }
  return out;
}

}  // namespace torn::gate
