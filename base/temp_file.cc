#include "base/temp_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

namespace torn {

std::string TempRoot() {
  const char* t = ::getenv("TMPDIR");
  return (t && *t) ? t : "/tmp";
}

TempFile& TempFile::operator=(TempFile&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_ = std::move(o.path_);
    o.path_.clear();
    fd_ = std::move(o.fd_);
  }
  return *this;
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

Result<TempFile> TempFile::Create(const std::string& prefix, const std::string& dir) {
  std::string tmpl = (dir.empty() ? TempRoot() : dir) + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create temporary file " + tmpl, errno);
  TempFile f;
  f.path_ = buf.data();
  f.fd_ = UniqueFd(fd);
  return f;
}

TempDir& TempDir::operator=(TempDir&& o) noexcept {
  if (this != &o) {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string TempDir::release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

Result<TempDir> TempDir::Create(const std::string& prefix, const std::string& dir) {
  std::string tmpl = (dir.empty() ? TempRoot() : dir) + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return ErrnoError("create temporary directory " + tmpl, errno);
  TempDir d;
  d.path_ = buf.data();
  return d;
}

Result<UniqueFd> AnonymousFile(const std::string& dir) {
  std::string d = dir.empty() ? TempRoot() : dir;
  int fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  // Fall back to create-and-unlink on file systems without O_TMPFILE.
  TORN_ASSIGN_OR_RETURN(TempFile f, TempFile::Create("torn-anon-", d));
  int dup = ::fcntl(f.fd(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoError("dup", errno);
  return UniqueFd(dup);  // f unlinks the path on return; the fd keeps the inode
}

}  // namespace torn
