// This machine's kernel log from a point on, for the mount oracle's host path (--host-mount): what the
// kernel said about one loop device while torn mounted, walked and unmounted it. The lab VM's job uses
// dmesg in the guest instead (mount_vm_job.h).
//
// How: /dev/kmsg, opened O_NONBLOCK and positioned at its end (SEEK_END) when the KernelLog is made;
// Read() returns the records logged since, one message each (the "PRI,SEQ,TIME,FLAGS;" prefix and the
// continuation lines of dictionary key=value pairs dropped). Records overwritten before they are read
// (EPIPE: the ring buffer wrapped) are skipped and counted. Lines of other devices are the caller's to
// filter: several workers may mount at once, each on its own loop device.
//
// Needs root (or CAP_SYSLOG with dmesg_restrict); Open() says so in its error.
#pragma once

#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace torn::oracles {

class KernelLog {
 public:
  static Result<KernelLog> Open();

  // The messages logged since Open() or the last Read().
  std::vector<std::string> Read();
  uint64_t lost() const { return lost_; }

 private:
  explicit KernelLog(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  uint64_t lost_ = 0;
};

// The message of one /dev/kmsg record ("6,1234,5678,-;EXT4-fs (loop0): mounted ...\n KEY=v"): the text
// after the first ';' up to the first newline; the whole record when it has no ';'.
std::string KmsgMessage(std::string_view record);

// Whether a kernel line is about `device` ("loop3"): the name as a word of its own, as in
// "EXT4-fs (loop3):", "EXT4-fs error (device loop3):", "loop3: detected ...", "jbd2/loop3-8"; not
// "loop30".
bool MentionsDevice(std::string_view line, std::string_view device);
std::vector<std::string> LinesAbout(const std::vector<std::string>& lines, const std::string& device);

}  // namespace torn::oracles
