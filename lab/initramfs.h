// The lab VM's initramfs: busybox-static, the programs a job needs with their shared libraries, the
// kernel modules with their dependencies, and an /init that sets the machine up, runs /job/run.sh and
// powers off. Built by torn itself (lab/cpio.h), no root file system image needed.
//
// What /init does, in order (the guest side of the contract in lab/vm.h):
//   1. mounts proc, sys, devtmpfs (/dev) and tmpfs (/tmp), installs busybox's applets in /bin, and
//      sets PATH=/usr/sbin:/usr/bin:/sbin:/bin. Busybox's shell still runs its own applets first, so
//      jobs call util-linux and e2fsprogs tools by their full path (/usr/sbin/losetup).
//   2. loads the modules listed in /etc/torn/modules (host-resolved order, lab/modules.h);
//   3. waits until the kernel has the disks the host attached ($torn_disks, from the command line);
//   4. prints "@@torn: job start" on the console and runs `sh /job/run.sh` in /job, stdin /dev/null,
//      stdout and stderr on the console; the job may write its own lines to the report channel
//      /dev/ttyS1 ($TORN_REPORT);
//   5. syncs, writes "TORN-EXIT <status>" to the report channel and powers off (poweroff -f).
// A module that fails to load ends the boot with status 125 and the reason on the console.
//
// Programs keep their host paths (/usr/sbin/mke2fs); libraries are found with ldd and kept at the
// paths ldd names. The archive is cached as CACHE/initramfs/<sha256 of its bytes>.cpio, so equal
// inputs share one file and a changed input (a program upgraded by apt) gives a new one.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "lab/kernel.h"

namespace torn::lab {

struct InitramfsSpec {
  std::vector<std::string> programs;           // names on PATH or absolute paths; all required
  std::vector<std::string> optional_programs;  // included when the host has them
  std::vector<std::string> modules;            // module names; dependencies are added
};

struct Initramfs {
  std::string path;                   // the cached archive
  std::vector<std::string> programs;  // guest paths of the programs included
  std::vector<std::string> modules;   // module files in load order
};

// The /init script (exposed for tests and for reading).
std::string GuestInitScript();

// Shared libraries (and the program interpreter) `ldd` names for a program; empty for a static one.
Result<std::vector<std::string>> SharedLibraries(const std::string& program);

Result<Initramfs> BuildInitramfs(const Kernel& kernel, const InitramfsSpec& spec);

}  // namespace torn::lab
