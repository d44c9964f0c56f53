#include "workload/runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "workload/md5.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif

namespace torn::workload {
namespace {

using Kind = Promise::Kind;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string Parent(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

bool Under(const std::string& p, const std::string& dir) {
  return p == dir || (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/');
}

}  // namespace

std::string ManifestLines(const std::string& name, const PromiseSet& set) {
  // The root first: it always exists, and a manifest with no promise still has a line before its END.
  std::string out = "TORN-MANIFEST " + name + " D .\n";
  for (const auto& [path, p] : set) {
    switch (p.kind) {
      case Kind::kDir: out += "TORN-MANIFEST " + name + " D ./" + path + "\n"; break;
      case Kind::kExists: out += "TORN-MANIFEST " + name + " E ./" + path + "\n"; break;
      case Kind::kEither:
        out += "TORN-MANIFEST " + name + " O " + std::to_string(p.size) + " " + p.md5 + " " +
               std::to_string(p.size2) + " " + p.md5_2 + " ./" + path + "\n";
        break;
      case Kind::kContent:
        out += "TORN-MANIFEST " + name + " F " + std::to_string(p.size) + " " + p.md5 + " ./" + path + "\n";
        break;
    }
  }
  out += "TORN-MANIFEST-END " + name + "\n";
  return out;
}

bool Runner::Facts(const std::string& path, Promise& out) const {
  struct stat st;
  if (::lstat(Full(path).c_str(), &st) != 0) return false;
  out = Promise();
  out.ino = st.st_ino;
  if (S_ISDIR(st.st_mode)) {
    out.kind = Kind::kDir;
    return true;
  }
  if (!S_ISREG(st.st_mode)) return false;
  // O_NOATIME: reading must not dirty the inode (root may use it on any file).
  int fd = ::open(Full(path).c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0) fd = ::open(Full(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  Fd f(fd);
  Md5 md5;
  char buf[65536];
  uint64_t size = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    md5.Update(buf, static_cast<size_t>(n));
    size += static_cast<uint64_t>(n);
  }
  out.kind = Kind::kContent;
  out.size = size;
  out.md5 = md5.HexDigest();
  return true;
}

void Runner::PromiseAncestors(const std::string& path) {
  for (std::string d = Parent(path); d != "."; d = Parent(d)) {
    Promise p;
    if (Facts(d, p) && p.kind == Kind::kDir) promises_[d] = p;
  }
}

void Runner::PromisePath(const std::string& path) {
  Promise p;
  if (!Facts(path, p)) return;
  if (p.kind == Kind::kContent) {
    auto known = promises_.find(path);
    auto fresh = fresh_.find(path);
    bool named = (known != promises_.end() && known->second.ino == p.ino && known->second.bound &&
                  known->second.kind != Kind::kDir) ||
                 (fresh != fresh_.end() && fresh->second == p.ino);
    if (!named) return;  // rule 3: only a directory fsync promises this name
    PromiseAncestors(path);
    promises_[path] = p;
    return;
  }
  PromiseAncestors(path);
  if (path != ".") promises_[path] = p;
  // A directory: its entries' names.
  DIR* dir = ::opendir(Full(path).c_str());
  if (!dir) return;
  std::unique_ptr<DIR, int (*)(DIR*)> owner(dir, ::closedir);
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child = path == "." ? name : path + "/" + name;
    struct stat st;
    if (::lstat(Full(child).c_str(), &st) != 0) continue;
    auto it = promises_.find(child);
    if (S_ISDIR(st.st_mode)) {
      promises_[child] = Promise{Kind::kDir, 0, "", st.st_ino};
    } else if (S_ISREG(st.st_mode)) {
      bool keep = it != promises_.end() && it->second.ino == st.st_ino && it->second.kind == Kind::kContent;
      if (!keep) promises_[child] = Promise{Kind::kExists, 0, "", st.st_ino};
    }
  }
}

void Runner::Downgrade(uint64_t ino) {
  for (auto& [path, p] : promises_)
    if (p.ino == ino && (p.kind == Kind::kContent || p.kind == Kind::kEither)) {
      bool bound = p.bound;
      p = Promise{Kind::kExists, 0, "", ino};
      p.bound = bound;
    }
}

void Runner::DropUnder(const std::string& path) {
  for (auto it = promises_.begin(); it != promises_.end();) {
    if (Under(it->first, path)) it = promises_.erase(it);
    else ++it;
  }
  for (auto it = fresh_.begin(); it != fresh_.end();) {
    if (Under(it->first, path)) it = fresh_.erase(it);
    else ++it;
  }
}

PromiseSet Runner::Tree() const {
  PromiseSet out;
  std::vector<std::string> todo{"."};
  while (!todo.empty()) {
    std::string d = todo.back();
    todo.pop_back();
    DIR* dir = ::opendir(Full(d).c_str());
    if (!dir) continue;
    std::unique_ptr<DIR, int (*)(DIR*)> owner(dir, ::closedir);
    while (dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child = d == "." ? name : d + "/" + name;
      Promise p;
      if (!Facts(child, p)) continue;  // symlinks and the like
      out[child] = p;
      if (p.kind == Kind::kDir) todo.push_back(child);
    }
  }
  return out;
}

std::string Runner::Execute(size_t index, const Op& op) {
  std::string err;
  auto fail = [&](const char* what) {
    if (err.empty()) err = std::string(what) + " " + op.path + ": " + std::strerror(errno);
  };
  const std::string full = Full(op.path);
  auto before = promises_.find(op.path);
  bool content_promised = before != promises_.end() && before->second.kind == Kind::kContent;
  bool modifies_data = false;
  switch (op.kind) {
    case OpKind::kCreat: {
      struct stat st;
      bool existed = ::lstat(full.c_str(), &st) == 0;
      int fd = ::open(full.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) {
        fail("creat");
      } else {
        if (!existed && ::fstat(fd, &st) == 0) fresh_[op.path] = st.st_ino;
        ::close(fd);
      }
      break;
    }
    case OpKind::kWrite:
    case OpKind::kPwrite: {
      modifies_data = true;
      int flags = O_WRONLY | O_CLOEXEC | (op.direct ? O_DIRECT : 0) | (op.sync ? O_SYNC : 0);
      int fd = ::open(full.c_str(), flags);
      if (fd < 0) {
        fail("open");
        break;
      }
      Fd f(fd);
      void* mem = nullptr;
      if (::posix_memalign(&mem, 4096, op.length) != 0) {
        errno = ENOMEM;
        fail("pwrite");
        break;
      }
      std::unique_ptr<void, void (*)(void*)> buf(mem, std::free);
      auto* bytes = static_cast<uint8_t*>(mem);
      for (uint64_t i = 0; i < op.length; ++i) bytes[i] = DataByte(index, op.offset + i);
      uint64_t done = 0;
      while (done < op.length) {
        ssize_t n = ::pwrite(fd, bytes + done, op.length - done, static_cast<off_t>(op.offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          fail("pwrite");
          break;
        }
        done += static_cast<uint64_t>(n);
      }
      break;
    }
    case OpKind::kTruncate:
      modifies_data = true;
      if (::truncate(full.c_str(), static_cast<off_t>(op.offset)) != 0) fail("truncate");
      break;
    case OpKind::kFalloc: {
      modifies_data = true;
      int mode = op.falloc == FallocMode::kKeepSize    ? FALLOC_FL_KEEP_SIZE
                 : op.falloc == FallocMode::kPunchHole ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                 : op.falloc == FallocMode::kZeroRange ? FALLOC_FL_ZERO_RANGE
                                                       : 0;
      int fd = ::open(full.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) {
        fail("open");
        break;
      }
      Fd f(fd);
      if (::fallocate(fd, mode, static_cast<off_t>(op.offset), static_cast<off_t>(op.length)) != 0)
        fail("falloc");
      break;
    }
    case OpKind::kLink:
      if (::link(full.c_str(), Full(op.path2).c_str()) != 0) fail("link");
      break;
    case OpKind::kSymlink:
      if (::symlink(op.path.c_str(), Full(op.path2).c_str()) != 0) fail("symlink");
      break;
    case OpKind::kRename: {
      auto a = promises_.find(op.path), b = promises_.find(op.path2);
      std::optional<Promise> old_a, old_b;
      if (a != promises_.end()) old_a = a->second;
      if (b != promises_.end()) old_b = b->second;
      bool ok = ::rename(full.c_str(), Full(op.path2).c_str()) == 0;
      if (!ok) fail("rename");
      DropUnder(op.path);
      DropUnder(op.path2);
      struct stat st;
      bool file_now = ok && ::lstat(Full(op.path2).c_str(), &st) == 0 && S_ISREG(st.st_mode);
      bool b_was_file = old_b && old_b->kind != Kind::kDir;
      if (file_now && b_was_file) {  // rule 2: rename atomicity
        Promise p{Kind::kExists, 0, "", static_cast<uint64_t>(st.st_ino)};
        if (old_b->kind == Kind::kContent && old_a && old_a->kind == Kind::kContent)
          p = Promise{Kind::kEither, old_b->size, old_b->md5, static_cast<uint64_t>(st.st_ino), old_a->size, old_a->md5};
        p.bound = false;
        promises_[op.path2] = p;
      }
      break;
    }
    case OpKind::kUnlink:
      if (::unlink(full.c_str()) != 0) fail("unlink");
      DropUnder(op.path);
      break;
    case OpKind::kMkdir:
      if (::mkdir(full.c_str(), 0755) != 0) fail("mkdir");
      break;
    case OpKind::kRmdir:
      if (::rmdir(full.c_str()) != 0) fail("rmdir");
      DropUnder(op.path);
      break;
    case OpKind::kSetxattr:
      if (::setxattr(full.c_str(), op.path2.c_str(), op.value.data(), op.value.size(), 0) != 0) fail("setxattr");
      break;
    case OpKind::kRemovexattr:
      if (::removexattr(full.c_str(), op.path2.c_str()) != 0) fail("removexattr");
      break;
    case OpKind::kFsync:
    case OpKind::kFdatasync: {
      int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        fail("open");
        break;
      }
      Fd f(fd);
      int rc = op.kind == OpKind::kFsync ? ::fsync(fd) : ::fdatasync(fd);
      if (rc != 0) fail(op.kind == OpKind::kFsync ? "fsync" : "fdatasync");
      break;
    }
    case OpKind::kSync:
      ::sync();
      break;
    case OpKind::kSyncfs: {
      int fd = ::open(root_.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
      if (fd < 0) {
        fail("open");
        break;
      }
      Fd f(fd);
      if (::syncfs(fd) != 0) fail("syncfs");
      break;
    }
  }
  // Rule 1 applies even when the operation failed part way: promises only get weaker.
  if (modifies_data) {
    struct stat st;
    if (::stat(full.c_str(), &st) == 0) Downgrade(st.st_ino);
    else DropUnder(op.path);
  }
  if (!err.empty()) return err;
  switch (op.kind) {
    case OpKind::kFsync:
    case OpKind::kFdatasync: PromisePath(op.path); break;
    case OpKind::kSync:
    case OpKind::kSyncfs: promises_ = Tree(); break;
    case OpKind::kPwrite:
      if (op.sync && content_promised) {
        Promise p;
        if (Facts(op.path, p) && p.kind == Kind::kContent) promises_[op.path] = p;
      }
      break;
    default: break;
  }
  return err;
}

}  // namespace torn::workload
