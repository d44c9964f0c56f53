// The walk of a mounted tree (tree_walk.h): openat/getdents/fstatat/read/readlinkat from a stack of
// directory fds, so a deep tree costs no path resolution from the root and no recursion.
#include "oracles/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "base/fd.h"

namespace torn::oracles {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

struct Pending {
  std::string path;  // relative to the root ("." for the root)
};

std::string Join(const std::string& dir, const char* name) {
  return dir == "." ? std::string(name) : dir + "/" + name;
}

class Walker {
 public:
  Walker(const std::string& root, const WalkLimits& limits)
      : root_(root), limits_(limits), deadline_(std::chrono::steady_clock::now() + limits.time) {}

  WalkResult Run() {
    UniqueFd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!root_fd.valid()) {
      Error(".", "open", errno);
      return std::move(r_);
    }
    struct stat st;
    if (::fstat(root_fd.get(), &st) != 0) {
      Error(".", "stat", errno);
      return std::move(r_);
    }
    dev_ = st.st_dev;
    r_.entries = 1;
    std::vector<Pending> stack = {{"."}};
    while (!stack.empty() && r_.cut.empty()) {
      Pending p = std::move(stack.back());
      stack.pop_back();
      Directory(root_fd.get(), p.path, stack);
    }
    return std::move(r_);
  }

 private:
  void Error(const std::string& path, const char* what, int err) {
    if (r_.errors.size() >= limits_.max_errors) {
      ++r_.more_errors;
      return;
    }
    r_.errors.push_back(path + ": " + what + ": " + std::strerror(err));
  }

  bool OverBudget() {
    if (r_.entries > limits_.max_entries) r_.cut = "more than " + std::to_string(limits_.max_entries) + " entries";
    else if (std::chrono::steady_clock::now() > deadline_) r_.cut = "the time limit ran out";
    return !r_.cut.empty();
  }

  // Lists one directory: every entry stat'ed, files and symlinks read, subdirectories pushed.
  void Directory(int root_fd, const std::string& path, std::vector<Pending>& stack) {
    int fd = ::openat(root_fd, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      Error(path, "open", errno);
      return;
    }
    UniqueDir dir(::fdopendir(fd));
    if (!dir) {
      Error(path, "fdopendir", errno);
      ::close(fd);
      return;
    }
    std::vector<std::string> subdirs;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir.get());
      if (!e) {
        if (errno) Error(path, "readdir", errno);
        break;
      }
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      ++r_.entries;
      if (OverBudget()) return;
      std::string child = Join(path, e->d_name);
      struct stat st;
      if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        Error(child, "lstat", errno);
        continue;
      }
      if (st.st_dev != dev_) continue;  // another file system mounted inside: not ours
      if (S_ISDIR(st.st_mode)) subdirs.push_back(std::move(child));
      else if (S_ISREG(st.st_mode)) ReadFile(::dirfd(dir.get()), e->d_name, child);
      else if (S_ISLNK(st.st_mode)) ReadLink(::dirfd(dir.get()), e->d_name, child);
    }
    // Depth first, in readdir order.
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) stack.push_back({std::move(*it)});
  }

  void ReadFile(int dir_fd, const char* name, const std::string& path) {
    UniqueFd f(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (!f.valid()) {
      Error(path, "open", errno);
      return;
    }
    ++r_.files_read;
    static thread_local std::vector<char> buf(1 << 16);
    for (;;) {
      ssize_t n = ::read(f.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Error(path, "read", errno);  // errno as the kernel gave it: EUCLEAN, EIO, EFSBADCRC...
        return;
      }
      if (n == 0) return;
      r_.bytes_read += static_cast<uint64_t>(n);
      if (std::chrono::steady_clock::now() > deadline_) {
        r_.cut = "the time limit ran out reading " + path;
        return;
      }
    }
  }

  void ReadLink(int dir_fd, const char* name, const std::string& path) {
    char target[4096];
    if (::readlinkat(dir_fd, name, target, sizeof target) < 0) Error(path, "readlink", errno);
  }

  std::string root_;
  WalkLimits limits_;
  std::chrono::steady_clock::time_point deadline_;
  dev_t dev_ = 0;
  WalkResult r_;
};

}  // namespace

WalkResult WalkTree(const std::string& root, const WalkLimits& limits) { return Walker(root, limits).Run(); }

}  // namespace torn::oracles
