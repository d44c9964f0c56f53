// The lab VM: "boot this kernel with these disks, run this guest script, give me the console and how
// it ended". Used by the recorder (dm-log-writes traces), and meant for the checker's kernel-mount
// oracle and `torn gate`: nothing here knows about traces.
//
// The machine: qemu-system-x86_64, one vCPU, no network, no display; the console on ttyS0 streamed to
// the caller; a second serial port (ttyS1, the "report channel", a file on the host) for lines the
// job wants the host to read back cleanly, away from kernel messages; each GuestDisk a virtio-blk disk
// (/dev/vda, /dev/vdb, ... in order), raw, with the logical and physical block size asked for.
// The job (script and files) is appended to the cached initramfs as a second cpio archive, so the
// base archive stays shared between runs.
//
// Acceleration: kTcg always works. kAuto uses KVM only when /dev/kvm opens and a probe boot under KVM
// succeeded on this host before (the verdict is cached per host kernel release as
// CACHE/kvm-probe-<release>; a hung KVM boot costs the probe's 20 s once); $TORN_ACCEL=tcg|kvm forces.
//
// Every run leaves nothing behind: qemu is killed with its process group when the time limit passes,
// on Ctrl-C, or when the caller's stack unwinds; the job initrd and the report file are temporary.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lab/guest_outcome.h"
#include "lab/initramfs.h"
#include "lab/kernel.h"

namespace torn::lab {

enum class Accel { kAuto, kKvm, kTcg };

struct GuestDisk {
  std::string path;                 // a raw image file on the host
  unsigned logical_block_size = 512;
  bool read_only = false;
};

struct GuestFile {
  std::string path;  // in the guest; relative paths are under /job
  std::string data;
  uint32_t mode = 0644;
};

struct GuestSpec {
  Kernel kernel;
  Initramfs initramfs;
  std::string script;            // runs as `sh /job/run.sh` in /job
  std::vector<GuestFile> files;  // more files for the job
  std::vector<GuestDisk> disks;
  std::chrono::seconds timeout{300};
  unsigned memory_mib = 512;
  Accel accel = Accel::kAuto;
  std::function<void(std::string_view)> on_console;  // console output as it arrives
  std::function<void(std::string_view)> on_progress; // what takes long besides the job (a KVM probe)
};

struct GuestResult {
  GuestOutcome outcome;
  std::string console;       // everything the console printed (the tail past 16 MiB is kept)
  std::string report;        // the report channel's content
  std::string accel;         // "kvm" or "tcg"
  std::vector<std::string> qemu_argv;
  double seconds = 0;        // qemu start to exit
  double boot_seconds = -1;  // qemu start to "@@torn: job start"; -1 when the job never started
};

// Runs the guest to the end. The Status is an error only when the run could not be set up (no qemu,
// no disk); how the guest ended is in GuestResult::outcome.
Result<GuestResult> RunGuest(const GuestSpec& spec);

// The accelerator a kAuto run uses on this host (may boot a probe guest the first time).
Accel ResolveAccel(Accel requested, const Kernel& kernel, const Initramfs& initramfs,
                   const std::function<void(std::string_view)>& progress = nullptr);

}  // namespace torn::lab
