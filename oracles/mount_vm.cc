// The mount oracle in the lab VM: packs a batch of images, boots, reads the guest's report, judges on
// the host, and sends what is left after a panic or hang to a fresh boot. Design in mount_vm.h.
#include "oracles/mount_vm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/sparse_file.h"
#include "base/fd.h"
#include "base/interrupt.h"
#include "base/subprocess.h"
#include "base/temp_file.h"
#include "oracles/mount_vm_job.h"
#include "lab/guest_outcome.h"

namespace torn::oracles {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kAlign = 1 << 20;  // images start at 1 MiB boundaries in the pack

struct Lab {
  lab::Kernel kernel;
  lab::Initramfs initramfs;
};

Result<Lab> PrepareLab(const VmMountOptions& o) {
  auto progress = [&](std::string_view s) {
    if (o.on_progress) o.on_progress(s);
  };
  Result<lab::Kernel> kernel = o.kernel_image.empty() ? lab::DebianKernel(progress)
                                                      : lab::KernelFromImage(o.kernel_image, progress);
  if (!kernel.ok()) return kernel.status().with_context("the mount oracle's guest kernel");
  if (!o.modules_dir.empty()) {
    std::error_code ec;
    if (!fs::exists(o.modules_dir + "/modules.dep", ec))
      return BadInput(o.modules_dir + ": not a lib/modules/<release> folder (no modules.dep; run depmod)");
    kernel->modules_dir = o.modules_dir;
  }
  lab::InitramfsSpec spec;
  spec.programs = {"losetup"};  // util-linux's: busybox's has no --sizelimit
  spec.modules = {"virtio_pci", "virtio_blk", "loop", "ext4"};
  auto initramfs = lab::BuildInitramfs(*kernel, spec);
  if (!initramfs.ok()) return initramfs.status().with_context("the mount oracle's initramfs");
  return Lab{std::move(kernel).value(), std::move(initramfs).value()};
}

std::string WorkDir(const VmMountOptions& o) {
  if (!o.work_dir.empty()) return o.work_dir;
  std::error_code ec;
  return fs::is_directory("/dev/shm", ec) ? "/dev/shm" : TempRoot();
}

struct Source {
  UniqueFd fd;
  uint64_t bytes = 0, allocated = 0;
};

Result<Source> OpenImage(const MountImage& img) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(img.path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + img.path, errno);
  if (!S_ISREG(st.st_mode)) return BadInput(img.path + ": not a regular file (the mount oracle packs files)");
  if (st.st_size <= 0 || st.st_size % 512)
    return BadInput(img.path + ": size " + std::to_string(st.st_size) + " is not a positive multiple of 512");
  return Source{std::move(fd), uint64_t(st.st_size), uint64_t(st.st_blocks) * 512};
}

// The line of `lines` holding `needle`, without the kernel's "[  1.234567] " time stamp.
std::string FindLine(const std::vector<std::string>& lines, std::string_view needle) {
  for (const std::string& l : lines) {
    if (l.find(needle) == std::string::npos) continue;
    std::string_view s = l;
    if (s.starts_with("[")) {
      size_t close = s.find("] ");
      if (close != std::string_view::npos) s.remove_prefix(close + 2);
    }
    return std::string(s);
  }
  return "";
}

std::string ConsoleLine(std::string_view console, std::string_view needle) {
  size_t at = console.rfind(needle);
  if (at == std::string_view::npos) return "";
  size_t end = console.find_first_of("\r\n", at);
  return std::string(console.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

// The verdict on an image the guest finished (mount_vm.h, step 3).
// With the image's `after` hook, its verdicts on the region as the kernel left it go to `after_out`.
Result<Verdict> JudgeEnded(const ImageReport& r, int pack, const PackedImage& at, const Lab& lab,
                           const VmMountOptions& o, const std::string& work, const AfterKernel& after,
                           std::vector<Verdict>& after_out) {
  Verdict v;
  v.oracle = Oracle::kMount;
  v.output = "$ mount -t ext4 -o " + std::string(kVmMountOptions) + " (lab VM, kernel " +
             lab.kernel.release + ")\n";
  for (const auto& l : r.mount_errors) v.output += l + "\n";
  v.output += "[mount exit " + std::to_string(r.mount_rc) + "]\n";
  if (r.walked >= 0) {
    v.output += "$ find /mnt -xdev; cat every file; ls -l every symlink (the walk)\n";
    for (const auto& l : r.walk_errors) v.output += l + "\n";
    v.output += "[walked " + std::to_string(r.walked) + " entries]\n";
  }
  if (r.umount_rc >= 0) {
    for (const auto& l : r.umount_errors) v.output += l + "\n";
    v.output += "[umount exit " + std::to_string(r.umount_rc) + "]\n";
  }
  v.output += "--- guest kernel log ---\n";
  for (const auto& l : r.kernel) v.output += l + "\n";
  v.output += "--- end of kernel log ---\n";
  std::string ext4_error = FindLine(r.kernel, "EXT4-fs error");
  if (r.mount_rc != 0) {
    v.ok = false;
    v.detail = "kernel mount failed in the lab VM: " +
               (r.mount_errors.empty() ? "exit " + std::to_string(r.mount_rc) : r.mount_errors.front());
    std::string why = !ext4_error.empty() ? ext4_error : FindLine(r.kernel, "EXT4-fs (");
    if (why.empty()) why = FindLine(r.kernel, "JBD2");
    if (!why.empty()) v.detail += " (kernel: " + why + ")";
    return v;  // nothing mounted, nothing for e2fsck to judge after the kernel
  }
  if (!ext4_error.empty()) {
    v.ok = false;
    v.detail = "kernel reported an ext4 error during mount/walk/umount in the lab VM: " + ext4_error;
  } else if (!r.walk_errors.empty()) {
    v.ok = false;
    v.detail = "walking the mounted tree failed in the lab VM: " + r.walk_errors.front();
  } else if (r.umount_rc != 0) {
    v.ok = false;
    v.detail = "umount failed in the lab VM: " +
               (r.umount_errors.empty() ? "exit " + std::to_string(r.umount_rc) : r.umount_errors.front());
  }
  // What the kernel left, out of the pack into a file of its own for e2fsck -fn.
  TORN_ASSIGN_OR_RETURN(TempFile copy, TempFile::Create("torn-vmmount-img-", work));
  if (::ftruncate(copy.fd(), static_cast<off_t>(at.bytes)) != 0)
    return ErrnoError("size " + copy.path(), errno);
  TORN_RETURN_IF_ERROR(
      CopyDataRange(pack, at.offset, copy.fd(), 0, at.bytes).with_context("copy out of the pack"));
  FsckOptions full = o.fsck;
  full.undo_file.clear();  // the copy is ours: nothing to put back
  TORN_ASSIGN_OR_RETURN(Verdict f, FullCheck(copy.path(), full));
  if (after) {
    TORN_ASSIGN_OR_RETURN(after_out, after(copy.path(), f));
  }
  v.output += f.output;
  if (!f.ok && v.ok) {
    v.ok = false;
    v.detail = "after the guest kernel's journal replay: " + f.detail;
  }
  return v;
}

// The verdict on the image the guest died on (mount_vm.h, step 4).
Verdict JudgeCulprit(const ImageReport& r, const lab::GuestResult& g, const VmMountOptions& o) {
  Verdict v;
  v.oracle = Oracle::kMount;
  v.ok = false;
  if (g.outcome.outcome == lab::Outcome::kPanicked) {
    v.detail = "guest kernel panicked mounting this image";
    std::string panic = ConsoleLine(g.console, "Kernel panic - not syncing");
    if (!panic.empty()) v.detail += " (" + panic + ")";
  } else if (r.hung || g.outcome.outcome == lab::Outcome::kTimedOut) {
    v.detail = "guest kernel hung mounting this image (no answer in " +
               std::to_string(o.image_timeout.count()) + " s)";
  } else {
    v.detail = "the lab VM stopped mounting this image (" + g.outcome.describe() + ")";
  }
  // The job sends the kernel log only after the detach; the console holds what the kernel said.
  v.output = v.detail + "\n--- guest console (last lines) ---\n" + lab::ConsoleTail(g.console, 40) +
              "--- end of console ---\n";
  return v;
}

std::string Range(size_t first, size_t end, size_t n) {
  return "images " + std::to_string(first + 1) + "-" + std::to_string(end) + " of " + std::to_string(n);
}

}  // namespace

Status MountVmAvailable(const VmMountOptions& o) {
  if (FindProgram("qemu-system-x86_64").empty())
    return Unavailable("the mount oracle's lab VM needs qemu-system-x86_64 (install qemu-system-x86), "
                       "or use --host-mount");
  auto lab = PrepareLab(o);
  if (!lab.ok()) return lab.status().with_context("the mount oracle's lab VM is unavailable");
  return Status::Ok();
}

Result<VmMountResult> MountInVm(std::span<const MountImage> images, const VmMountOptions& o) {
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](std::string_view s) {
    if (o.on_progress) o.on_progress(s);
  };
  VmMountResult result;
  if (images.empty()) return result;
  // Every image readable before anything boots.
  std::vector<Source> sources;
  for (const MountImage& img : images) {
    auto s = OpenImage(img);
    if (!s.ok()) return s.status().with_context("mount oracle");
    sources.push_back(std::move(s).value());
  }
  TORN_ASSIGN_OR_RETURN(Lab lab, PrepareLab(o));
  const std::string work = WorkDir(o);
  const size_t n = images.size();

  for (size_t first = 0; first < n;) {
    TORN_RETURN_IF_ERROR(CheckInterrupted());
    // This boot's batch: up to max_images_per_boot, up to max_pack_data_bytes (at least one image).
    size_t end = first;
    uint64_t data = 0, pack_bytes = 0;
    std::vector<PackedImage> packed;
    while (end < n && packed.size() < std::max<size_t>(1, o.max_images_per_boot) &&
           (packed.empty() || data + sources[end].allocated <= o.max_pack_data_bytes)) {
      packed.push_back({pack_bytes, sources[end].bytes});
      data += sources[end].allocated;
      pack_bytes += (sources[end].bytes + kAlign - 1) / kAlign * kAlign;
      ++end;
    }
    TORN_ASSIGN_OR_RETURN(TempFile pack, TempFile::Create("torn-vmmount-pack-", work));
    if (::ftruncate(pack.fd(), static_cast<off_t>(pack_bytes)) != 0)
      return ErrnoError("size " + pack.path(), errno);
    for (size_t k = 0; k < packed.size(); ++k) {
      TORN_RETURN_IF_ERROR(CopyDataRange(sources[first + k].fd.get(), 0, pack.fd(), packed[k].offset,
                                     packed[k].bytes)
                               .with_context("mount oracle: pack " + images[first + k].path));
    }

    lab::GuestSpec g;
    g.kernel = lab.kernel;
    g.initramfs = lab.initramfs;
    g.script = MountJobScript();
    MountJobConfig config{o.image_timeout, -1, -1, o.walk};
    auto in_batch = [&](int k) { return k >= int(first) && k < int(end) ? k - int(first) : -1; };
    config.panic_at = in_batch(o.test_panic_at);
    config.hang_at = in_batch(o.test_hang_at);
    g.files = MountJobFiles(packed, config);
    g.disks = {{pack.path(), 512}};
    // A backstop for a guest too stuck for its own watchdog (which ends a hung image after
    // image_timeout): one image may take image_timeout, each of the others max(10 s, image_timeout/6)
    // (about 0.3 s is usual under TCG).
    g.timeout = o.boot_timeout + o.image_timeout +
                std::max<std::chrono::seconds>(std::chrono::seconds(10), o.image_timeout / 6) * packed.size();
    g.accel = o.accel;
    g.on_console = o.on_console;
    g.on_progress = o.on_progress;
    progress("lab VM: booting " + lab.kernel.description + " to mount " + Range(first, end, n));
    TORN_ASSIGN_OR_RETURN(lab::GuestResult run, lab::RunGuest(g));
    ++result.boots;
    result.accel = run.accel;
    result.guest_seconds += run.seconds;
    if (run.boot_seconds > 0) result.boot_seconds += run.boot_seconds;
    if (run.outcome.outcome == lab::Outcome::kInterrupted) return Status(Code::kInterrupted, "interrupted");

    auto reports = ParseMountReport(run.report, packed.size());
    if (!reports.ok()) {
      return reports.status().with_context("mount oracle (" + Range(first, end, n) + ")");
    }
    size_t done = 0;
    for (; done < packed.size() && (*reports)[done].ended; ++done) {
      const std::string& path = images[first + done].path;
      progress("judging " + path);
      std::vector<Verdict> after;
      auto v = JudgeEnded((*reports)[done], pack.fd(), packed[done], lab, o, work, images[first + done].after, after);
      if (!v.ok()) return v.status().with_context("mount oracle, image " + path);
      result.verdicts.push_back(std::move(v).value());
      result.after.push_back(std::move(after));
    }
    bool died = run.outcome.outcome == lab::Outcome::kPanicked ||
                run.outcome.outcome == lab::Outcome::kTimedOut;
    if (done > 0 && died && (done == packed.size() || !(*reports)[done].began)) {
      // The guest died between images (a late panic, a hung poweroff): the last image mounted did it.
      Verdict& last = result.verdicts.back();
      last.ok = false;
      last.detail = "guest kernel " +
                    std::string(run.outcome.outcome == lab::Outcome::kPanicked ? "panicked" : "hung") +
                    " after mounting this image";
      std::string panic = ConsoleLine(run.console, "Kernel panic - not syncing");
      if (!panic.empty()) last.detail += " (" + panic + ")";
      last.output += "--- guest console (last lines) ---\n" + lab::ConsoleTail(run.console, 40);
    }
    if (done == packed.size() || (done > 0 && died && !(*reports)[done].began)) {
      first += done;
      continue;
    }
    const ImageReport& culprit = (*reports)[done];
    const std::string& path = images[first + done].path;
    if (!culprit.setup_errors.empty()) {
      return BadInput("mount oracle, image " + path + ": attaching it in the lab VM failed: " +
                      culprit.setup_errors.front() + "\n--- guest console (last lines) ---\n" +
                      lab::ConsoleTail(run.console, 25));
    }
    if (!culprit.began || run.outcome.outcome == lab::Outcome::kExited) {
      // The guest never got to this image, or the job quit without saying why: not the image's doing.
      return Unavailable("mount oracle: the lab VM " + run.outcome.describe() + " before finishing " +
                         path + " (" + Range(first, end, n) + ")\n--- guest console (last lines) ---\n" +
                         lab::ConsoleTail(run.console, 25));
    }
    progress("the guest died mounting " + path + "; the images after it get a fresh boot");
    result.verdicts.push_back(JudgeCulprit(culprit, run, o));
    result.after.emplace_back();
    first += done + 1;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace torn::oracles
