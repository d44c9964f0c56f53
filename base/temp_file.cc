#include "base/temp_file.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>
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

namespace {

std::string Template(const std::string& prefix, const std::string& dir) {
  return (dir.empty() ? TempRoot() : dir) + "/" + prefix + "p" + std::to_string(::getpid()) + "-XXXXXX";
}

// The creator's pid in a name Template made, or 0.
pid_t CreatorOf(std::string_view name) {
  if (!name.starts_with("torn-") || name.size() < 7 || name[name.size() - 7] != '-') return 0;
  std::string_view head = name.substr(0, name.size() - 7);  // "torn-...-p<pid>" or "torn-...p<pid>"
  size_t p = head.rfind('p');
  if (p == std::string_view::npos || p == 0 || head[p - 1] != '-' || p + 1 >= head.size()) return 0;
  pid_t pid = 0;
  for (char c : head.substr(p + 1)) {
    if (c < '0' || c > '9' || pid > 4194304) return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

}  // namespace

size_t SweepStaleTemporaries(const std::string& dir) {
  std::error_code ec;
  size_t removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? TempRoot() : dir, ec)) {
    pid_t pid = CreatorOf(e.path().filename().native());
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    if (std::filesystem::remove_all(e.path(), rm) > 0) ++removed;
  }
  return removed;
}

Result<TempFile> TempFile::Create(const std::string& prefix, const std::string& dir) {
  std::string tmpl = Template(prefix, dir);
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
  std::string tmpl = Template(prefix, dir);
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
