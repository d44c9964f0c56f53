// The mount oracle in the lab VM (oracles/mount_vm.h): what one boot costs and what each further image
// costs. Builds N distinct prefix crash states of a trace (default corpus/ext4-default, N 20: the
// states right after N barriers after the mark mkfs, evenly spread), judges them in one MountInVm call,
// then one image alone, and prints figures. Never a timed test: machine load changes the numbers.
// Usage: torn_bench_mount_vm [TRACE [N]]
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/interrupt.h"
#include "base/temp_file.h"
#include "oracles/mount_vm.h"
#include "checker/state_image.h"
#include "replayer/materializer.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

using namespace torn;

int main(int argc, char** argv) {
  InstallInterruptHandlers();  // Ctrl-C: qemu, the pack and the images go
  std::string trace_path = argc > 1 ? argv[1] : std::string(TORN_SOURCE_DIR) + "/corpus/ext4-default";
  size_t n = argc > 2 ? std::stoul(argv[2]) : 20;
  auto log = trace::Log::Open(trace_path);
  if (!log.ok()) return std::fprintf(stderr, "%s\n", log.status().message().c_str()), 2;
  auto desc = trace::ReadDescription(trace_path);
  uint64_t device = desc.ok() ? desc->value("device_bytes", uint64_t(0)) : 0;
  const uint64_t bytes = checker::ImageBytes(*log, device);
  auto dir = TempDir::Create("torn-bench-mount-vm-", "/dev/shm");
  if (!dir.ok()) return std::fprintf(stderr, "cannot create images in /dev/shm\n"), 2;

  std::vector<size_t> barriers;  // crash points right after a flush or FUA write, after mkfs
  size_t from = log->FindMark("mkfs").value_or(0);
  for (size_t i = from; i < log->size(); ++i)
    if (log->entry(i).flush() || log->entry(i).fua()) barriers.push_back(i);
  if (barriers.size() < n) n = barriers.size();
  std::vector<oracles::MountImage> images;
  uint64_t allocated = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t last = barriers[k * barriers.size() / n];
    models::CrashState st;
    st.base_end = last + 1;
    st.crash_point = last;
    std::string path = dir->path() + "/state-" + std::to_string(last);
    if (!replay::BuildFromScratch(*log, st, path, bytes).ok())
      return std::fprintf(stderr, "cannot build %s\n", path.c_str()), 2;
    auto fd = OpenFile(path, O_RDONLY);
    if (!fd.ok()) return std::fprintf(stderr, "cannot open %s\n", path.c_str()), 2;
    struct stat s;
    ::fstat(fd->get(), &s);
    allocated += uint64_t(s.st_blocks) * 512;
    images.push_back({path});
  }
  std::printf("trace %s: %zu prefix states, images of %.0f MiB with %.1f MiB of data on average\n",
              trace_path.c_str(), n, bytes / 1048576.0, allocated / 1048576.0 / double(n));

  oracles::VmMountOptions o;
  auto batch = oracles::MountInVm(images, o);
  if (!batch.ok()) return std::fprintf(stderr, "%s\n", batch.status().message().c_str()), 1;
  size_t bad = 0;
  for (const auto& v : batch->verdicts) bad += !v.ok;
  auto one = oracles::MountInVm(std::span(images).first(1), o);
  if (!one.ok()) return std::fprintf(stderr, "%s\n", one.status().message().c_str()), 1;

  double per_image_guest = (batch->guest_seconds - batch->boot_seconds) / double(n);
  std::printf("accel %s\n", batch->accel.c_str());
  std::printf("batch of %zu: %u boot(s), %.2f s in all (%zu not ok)\n", n, batch->boots, batch->seconds, bad);
  std::printf("  boot (qemu start to job start): %.2f s\n", batch->boot_seconds);
  std::printf("  guest after boot: %.2f s = %.3f s per image (mount, umount, sync, report, poweroff)\n",
              batch->guest_seconds - batch->boot_seconds, per_image_guest);
  std::printf("  host side (pack, e2fsck -fn): %.2f s = %.3f s per image\n",
              batch->seconds - batch->guest_seconds, (batch->seconds - batch->guest_seconds) / double(n));
  std::printf("  whole call per image: %.3f s\n", batch->seconds / double(n));
  std::printf("one image alone: %.2f s (boot %.2f s)\n", one->seconds, one->boot_seconds);
  std::printf("%zu images one boot each would take about %.0f s; batched: %.0f s (%.1fx)\n", n,
              one->seconds * double(n), batch->seconds, one->seconds * double(n) / batch->seconds);
  return 0;
}
