// A writer of "newc" cpio archives (the format the kernel unpacks as an initramfs), built in memory.
//
// Layout of each member: a 110-byte ASCII header ("070701", then 13 fields of 8 hex digits: ino, mode,
// uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check), the
// NUL-terminated name, padding to a multiple of 4, the data, padding to a multiple of 4. The archive
// ends with the member "TRAILER!!!". The kernel also accepts several archives concatenated, which is
// how a per-run job is appended to a cached initramfs (lab/initramfs.h).
//
// Rules: names are relative ("bin/busybox", no leading slash); owner root, mtime 0 and inode numbers
// in the order of addition, so the same members give the same bytes (the cache keys on a hash of them).
// Parent directories are added on demand, once each.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace torn::lab {

class CpioWriter {
 public:
  void AddDirectory(std::string_view name, uint32_t mode = 0755);
  void AddFile(std::string_view name, std::string_view data, uint32_t mode = 0644);
  void AddSymlink(std::string_view name, std::string_view target);
  // Appends the trailer and returns the archive; the writer is empty afterwards.
  std::string Finish();
  bool Has(std::string_view name) const { return names_.count(std::string(name)) > 0; }

 private:
  void AddParents(std::string_view name);
  void AddMember(std::string_view name, uint32_t mode, std::string_view data);

  std::string out_;
  std::set<std::string> names_;
  uint32_t next_ino_ = 1;
};

}  // namespace torn::lab
