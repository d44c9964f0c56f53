#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace torn {
namespace {

// In the child, between fork and exec: async-signal-safe calls only (spawn.h).
[[noreturn]] void Child(const ChildSetup& s, pid_t parent, int error_fd) {
  auto fail = [&](int err) {
    (void)!::write(error_fd, &err, sizeof err);
    ::_exit(127);
  };
  if (::setpgid(0, 0) != 0) fail(errno);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &dfl, nullptr);
  // Termination signals from outside are torn's to act on, never the child's (spawn.h).
  sigset_t term;
  sigemptyset(&term);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&term, sig);
  if (::sigprocmask(SIG_BLOCK, &term, nullptr) != 0) fail(errno);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  if (::getppid() != parent) ::_exit(127);  // torn died before prctl: nobody will read or wait
  int null = ::open("/dev/null", O_RDONLY);
  if (null < 0) fail(errno);
  if (::dup2(null, 0) < 0) fail(errno);
  if (null != 0) ::close(null);
  if (s.output_fd >= 0 && (::dup2(s.output_fd, 1) < 0 || ::dup2(s.output_fd, 2) < 0)) fail(errno);
  if (s.cwd && ::chdir(s.cwd) != 0) fail(errno);
  ::execve(s.program, s.argv, s.envp);
  fail(errno);
  ::_exit(127);
}

}  // namespace

Result<pid_t> SpawnChild(const ChildSetup& setup) {
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(errpipe[0]);
    ::close(errpipe[1]);
    return ErrnoError("fork", err);
  }
  if (pid == 0) {
    ::close(errpipe[0]);
    Child(setup, parent, errpipe[1]);
  }
  ::close(errpipe[1]);
  // Nothing to read: the exec closed the pipe. An int: the child's errno before it exited.
  int err = 0;
  ssize_t got;
  do {
    got = ::read(errpipe[0], &err, sizeof err);
  } while (got < 0 && errno == EINTR);
  ::close(errpipe[0]);
  if (got == static_cast<ssize_t>(sizeof err)) {
    int ws;
    while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    return ErrnoError(setup.program, err);
  }
  return pid;
}

}  // namespace torn
