// torn-runner: executes a workload (workload/op.h) in the lab VM with system calls, no shell per
// operation, and after each persistence operation inserts a dm-log-writes mark (the DM_TARGET_MSG
// ioctl that `dmsetup message TARGET 0 mark NAME` sends) and reports what the operation promised
// (workload/runner.h) on the report channel, in recorder/guest_report.h's lines:
//   TORN-MARK NAME, TORN-MANIFEST NAME ..., TORN-MANIFEST-END NAME, TORN-OP-FAILED N what
// A rename is followed by a mark too. After the last operation: the mark "end" with the promises as they stand; with --umount, the tree
// is read, ROOT unmounted (which makes everything durable) and the mark "umount" sent with that tree.
// Built static (the initramfs has busybox and no libc++).
//
//   torn-runner --root DIR --report FILE [--target NAME] [--umount] WORKLOAD
// Without --target no mark is sent (tests on the host). Exit: 0 done, 1 an operation failed (all
// others still ran), 2 bad usage or workload, 3 a mark or the report could not be written.
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "workload/op.h"
#include "workload/runner.h"

namespace {

using namespace torn::workload;

bool SendMark(const std::string& target, const std::string& name) {
  alignas(8) char buf[4096];
  std::memset(buf, 0, sizeof buf);
  auto* io = reinterpret_cast<dm_ioctl*>(buf);
  io->version[0] = DM_VERSION_MAJOR;
  io->data_size = sizeof buf;
  io->data_start = sizeof(dm_ioctl);
  std::strncpy(io->name, target.c_str(), DM_NAME_LEN - 1);
  auto* msg = reinterpret_cast<dm_target_msg*>(buf + io->data_start);
  msg->sector = 0;
  std::string text = "mark " + name;
  if (sizeof(dm_ioctl) + sizeof(dm_target_msg) + text.size() + 1 > sizeof buf) return false;
  std::memcpy(msg->message, text.c_str(), text.size() + 1);
  int fd = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "torn-runner: /dev/mapper/control: %s\n", std::strerror(errno));
    return false;
  }
  int rc = ::ioctl(fd, DM_TARGET_MSG, io);
  int err = errno;
  ::close(fd);
  if (rc != 0) std::fprintf(stderr, "torn-runner: mark %s: %s\n", name.c_str(), std::strerror(err));
  return rc == 0;
}

struct Reporter {
  int fd = -1;
  bool Write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::write(fd, s.data() + done, s.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string root, report, target, path;
  bool umount = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "--root") ok = value(root);
    else if (a == "--report") ok = value(report);
    else if (a == "--target") ok = value(target);
    else if (a == "--umount") umount = true;
    else if (!a.empty() && a[0] != '-' && path.empty()) path = a;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "usage: torn-runner --root DIR --report FILE [--target NAME] [--umount] WORKLOAD\n");
      return 2;
    }
  }
  if (root.empty() || report.empty() || path.empty()) {
    std::fprintf(stderr, "usage: torn-runner --root DIR --report FILE [--target NAME] [--umount] WORKLOAD\n");
    return 2;
  }
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "torn-runner: cannot read %s\n", path.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto w = Parse(text.str());
  if (!w.ok()) {
    std::fprintf(stderr, "torn-runner: %s: %s\n", path.c_str(), w.status().message().c_str());
    return 2;
  }
  Reporter out;
  out.fd = ::open(report.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (out.fd < 0) {
    std::fprintf(stderr, "torn-runner: %s: %s\n", report.c_str(), std::strerror(errno));
    return 3;
  }
  auto mark = [&](const std::string& name, const PromiseSet& set) {
    if (!target.empty() && !SendMark(target, name)) return false;
    return out.Write("TORN-MARK " + name + "\n" + ManifestLines(name, set));
  };
  Runner runner(root);
  int status = 0;
  for (size_t i = 0; i < w->size(); ++i) {
    const Op& op = (*w)[i];
    std::string err = runner.Execute(i, op);
    if (!err.empty()) {
      status = 1;
      std::fprintf(stderr, "torn-runner: op %zu (%s): %s\n", i + 1, PrintOp(op).c_str(), err.c_str());
      if (!out.Write("TORN-OP-FAILED " + std::to_string(i + 1) + " " + err + "\n")) return 3;
    }
    // A rename is marked too: its target's either-promise holds from there (runner.h, rule 2).
    bool marked = IsPersistence(op) || op.kind == OpKind::kRename;
    if (marked && !mark(MarkName(i, op), runner.promises())) return 3;
  }
  if (!mark("end", runner.promises())) return 3;
  if (umount) {
    PromiseSet tree = runner.Tree();
    if (::umount(root.c_str()) != 0) {
      std::fprintf(stderr, "torn-runner: umount %s: %s\n", root.c_str(), std::strerror(errno));
      return 3;
    }
    if (!mark("umount", tree)) return 3;
  }
  ::close(out.fd);
  return status;
}
