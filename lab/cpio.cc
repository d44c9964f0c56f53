#include "lab/cpio.h"

#include <sys/stat.h>

#include <fmt/core.h>

namespace torn::lab {
namespace {

void Pad4(std::string& s) {
  while (s.size() % 4) s.push_back('\0');
}

std::string Trim(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  return std::string(name);
}

}  // namespace

void CpioWriter::AddMember(std::string_view name, uint32_t mode, std::string_view data) {
  bool is_dir = S_ISDIR(mode);
  out_ += fmt::format("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                      next_ino_++, mode, 0, 0, is_dir ? 2 : 1, 0, data.size(), 0, 0, 0, 0,
                      name.size() + 1, 0);
  out_ += name;
  out_.push_back('\0');
  Pad4(out_);
  out_ += data;
  Pad4(out_);
}

void CpioWriter::AddParents(std::string_view name) {
  for (size_t slash = name.find('/'); slash != std::string_view::npos; slash = name.find('/', slash + 1)) {
    std::string parent(name.substr(0, slash));
    if (names_.insert(parent).second) AddMember(parent, S_IFDIR | 0755, {});
  }
}

void CpioWriter::AddDirectory(std::string_view raw, uint32_t mode) {
  std::string name = Trim(raw);
  AddParents(name);
  if (names_.insert(name).second) AddMember(name, S_IFDIR | (mode & 07777), {});
}

void CpioWriter::AddFile(std::string_view raw, std::string_view data, uint32_t mode) {
  std::string name = Trim(raw);
  AddParents(name);
  names_.insert(name);
  AddMember(name, S_IFREG | (mode & 07777), data);
}

void CpioWriter::AddSymlink(std::string_view raw, std::string_view target) {
  std::string name = Trim(raw);
  AddParents(name);
  names_.insert(name);
  AddMember(name, S_IFLNK | 0777, target);
}

std::string CpioWriter::Finish() {
  AddMember("TRAILER!!!", 0, {});
  std::string out = std::move(out_);
  out_.clear();
  names_.clear();
  next_ino_ = 1;
  return out;
}

}  // namespace torn::lab
