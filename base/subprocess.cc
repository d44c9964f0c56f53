#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "base/fd.h"
#include "base/interrupt.h"
#include "base/spawn.h"

extern char** environ;

namespace torn {

std::string ExitStatus::describe() const {
  switch (how) {
    case How::kExited:
      return "exit code " + std::to_string(code);
    case How::kSignaled:
      return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
    case How::kTimedOut:
      return "timed out";
    case How::kInterrupted:
      return "interrupted";
  }
  return "?";
}

ExitStatus DecodeWaitStatus(int ws) {
  ExitStatus e;
  if (WIFEXITED(ws)) {
    e.how = ExitStatus::How::kExited;
    e.code = WEXITSTATUS(ws);
  } else if (WIFSIGNALED(ws)) {
    e.how = ExitStatus::How::kSignaled;
    e.signal = WTERMSIG(ws);
  } else {
    e.how = ExitStatus::How::kSignaled;  // stopped/continued are not requested; treat as abnormal
    e.signal = 0;
  }
  return e;
}

std::string FindProgram(std::string_view name) {
  if (name.find('/') != std::string_view::npos) return std::string(name);
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + std::string(name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return {};
}

std::string QuoteArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') out += "'\\''";
      else out += c;
    }
    out += '\'';
  }
  return out;
}

Result<Subprocess> Subprocess::Start(const SpawnOptions& options) {
  if (options.argv.empty()) return Internal("spawn with an empty argv");
  std::string program = FindProgram(options.argv[0]);
  if (program.empty()) return Unavailable(options.argv[0] + ": not found on PATH");

  int pipefd[2] = {-1, -1};
  if (!options.inherit_output && ::pipe2(pipefd, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);

  std::vector<std::string> argv_store = options.argv;
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Environment: ours, with options.env added or replaced by name.
  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    env_map[kv.substr(0, kv.find('='))] = kv;
  }
  for (const auto& kv : options.env) env_map[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> env_store;
  for (auto& [k, v] : env_map) env_store.push_back(v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  Subprocess p;
  p.options_ = options;
  // fork+exec rather than posix_spawn: the child must ask to die with us (base/spawn.h).
  Result<pid_t> pid = SpawnChild({.program = program.c_str(),
                                  .argv = argv.data(),
                                  .envp = envp.data(),
                                  .output_fd = pipefd[1],
                                  .cwd = options.cwd.empty() ? nullptr : options.cwd.c_str()});
  if (pipefd[1] >= 0) ::close(pipefd[1]);
  if (!pid.ok()) {
    if (pipefd[0] >= 0) ::close(pipefd[0]);
    return pid.status().with_context("spawn " + program);
  }
  p.pid_ = *pid;
  p.out_fd_ = pipefd[0];
  p.start_ = std::chrono::steady_clock::now();
  return p;
}

Subprocess::Subprocess(Subprocess&& o) noexcept
    : options_(std::move(o.options_)), pid_(o.pid_), out_fd_(o.out_fd_), start_(o.start_) {
  o.pid_ = -1;
  o.out_fd_ = -1;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    Kill();
    int ws;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void Subprocess::Kill() {
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
}

namespace {

// A pollable handle on the child's exit (Linux 5.3+), or -1 where the kernel has none.
int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  return -1;
#endif
}

}  // namespace

RunResult Subprocess::Wait() {
  RunResult r;
  using clock = std::chrono::steady_clock;
  bool timed_out = false, interrupted = false, exited = false;
  UniqueFd pidfd(OpenPidfd(pid_));
  char buf[65536];
  auto take = [&](ssize_t got) {
    std::string_view chunk(buf, static_cast<size_t>(got));
    if (options_.on_output) options_.on_output(chunk);
    r.output.append(chunk);
    if (r.output.size() > options_.capture_limit * 2)
      r.output.erase(0, r.output.size() - options_.capture_limit);
  };
  // Pump the output and watch for the exit, the time limit and interrupts. The child's exit is seen
  // through the pidfd the moment it happens (no polling delay per child: e2fsck runs thousands of
  // times in a check); without a pidfd, waitpid is tried with a short, growing back-off.
  int backoff_us = 100;
  while (!exited) {
    int wait_ms = 200;
    if (options_.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          start_ + options_.timeout - clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<long>(left.count(), 200));
    }
    if (Interrupted()) {
      interrupted = true;
      break;
    }
    struct pollfd pfd[2];
    int n = 0;
    if (out_fd_ >= 0) pfd[n++] = {out_fd_, POLLIN, 0};
    if (pidfd.valid()) pfd[n++] = {pidfd.get(), POLLIN, 0};
    if (!pidfd.valid()) wait_ms = std::min(wait_ms, backoff_us / 1000 + 1);
    if (n > 0 && ::poll(pfd, static_cast<nfds_t>(n), wait_ms) < 0 && errno != EINTR) break;
    if (n == 0) ::usleep(static_cast<useconds_t>(backoff_us));
    if (out_fd_ >= 0 && (pfd[0].revents & (POLLIN | POLLHUP))) {
      ssize_t got = ::read(out_fd_, buf, sizeof buf);
      if (got > 0) take(got);
      else if (got == 0 || errno != EINTR) ::close(out_fd_), out_fd_ = -1;
    }
    int ws = 0;
    if (::waitpid(pid_, &ws, WNOHANG) == pid_) {
      exited = true;
      r.status = DecodeWaitStatus(ws);
      // A child that ended once torn was interrupted, or of SIGINT, SIGTERM or SIGHUP (a script
      // unblocks them, spawn.h), was stopped from outside: its status says nothing of its work
      // (e2fsck exits 8 or 32 when cancelled), so it is an interruption, never a verdict stored for a
      // requeued run to reuse.
      if (Interrupted() ||
          (r.status.how == ExitStatus::How::kSignaled &&
           (r.status.signal == SIGINT || r.status.signal == SIGTERM || r.status.signal == SIGHUP)))
        interrupted = true;
    } else if (!pidfd.valid()) {
      backoff_us = std::min(backoff_us * 2, 20000);
    }
  }
  if (!exited) {
    Kill();
    int ws;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
  }
  // What the child wrote just before it exited; a grandchild that kept the pipe open is not waited
  // for (it is killed with the group below).
  if (out_fd_ >= 0) {
    ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    for (ssize_t got; (got = ::read(out_fd_, buf, sizeof buf)) > 0;) take(got);
    ::close(out_fd_);
    out_fd_ = -1;
  }
  // Kill what the child left behind in its group (daemons it spawned).
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
  if (r.output.size() > options_.capture_limit)
    r.output.erase(0, r.output.size() - options_.capture_limit);
  r.seconds = std::chrono::duration<double>(clock::now() - start_).count();
  if (timed_out) r.status = {ExitStatus::How::kTimedOut};
  else if (interrupted) r.status = {ExitStatus::How::kInterrupted};
  return r;
}

Result<RunResult> RunChild(const SpawnOptions& options) {
  TORN_ASSIGN_OR_RETURN(Subprocess p, Subprocess::Start(options));
  return p.Wait();
}

}  // namespace torn
