#include "oracles/kernel_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace torn::oracles {

Result<KernelLog> KernelLog::Open() {
  int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open /dev/kmsg (the host mount oracle reads the kernel log: root needed)", errno);
  UniqueFd owned(fd);
  if (::lseek(fd, 0, SEEK_END) < 0) return ErrnoError("seek to the end of /dev/kmsg", errno);
  return KernelLog(std::move(owned));
}

std::vector<std::string> KernelLog::Read() {
  std::vector<std::string> out;
  char record[8192];  // a record is at most about 1 KiB; /dev/kmsg returns one per read
  for (;;) {
    ssize_t n = ::read(fd_.get(), record, sizeof record);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) {  // overwritten before we read it; the next read goes on
      ++lost_;
      continue;
    }
    if (n <= 0) break;  // EAGAIN: nothing more for now
    out.push_back(KmsgMessage(std::string_view(record, static_cast<size_t>(n))));
  }
  return out;
}

std::string KmsgMessage(std::string_view record) {
  size_t semi = record.find(';');
  std::string_view msg = semi == std::string_view::npos ? record : record.substr(semi + 1);
  size_t nl = msg.find('\n');
  return std::string(msg.substr(0, nl));
}

bool MentionsDevice(std::string_view line, std::string_view device) {
  for (size_t at = line.find(device); at != std::string_view::npos; at = line.find(device, at + 1)) {
    char before = at == 0 ? ' ' : line[at - 1];
    char after = at + device.size() < line.size() ? line[at + device.size()] : ' ';
    bool starts = before == '(' || before == ' ' || before == '/';
    bool ends = after == ')' || after == ':' || after == '-' || after == ' ';  // not loop30 for loop3
    if (starts && ends) return true;
  }
  return false;
}

std::vector<std::string> LinesAbout(const std::vector<std::string>& lines, const std::string& device) {
  std::vector<std::string> out;
  for (const std::string& l : lines)
    if (MentionsDevice(l, device)) out.push_back(l);
  return out;
}

}  // namespace torn::oracles
