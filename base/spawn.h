// Starting a child process (for Subprocess, subprocess.h) so that it never outlives torn.
//
// The rule: every child torn starts (e2fsck, the lab VM's qemu, mke2fs, ...) is killed by the kernel
// when torn dies, however it dies. A scheduler ends a job at its time limit with SIGTERM, then
// SIGKILL; Kubernetes sends SIGTERM to the container's first process only; a user types kill -9. On
// SIGTERM torn unwinds and kills its children itself (base/interrupt.h); on SIGKILL nothing of torn
// runs, so the child asks the kernel beforehand: prctl(PR_SET_PDEATHSIG, SIGKILL) between fork and
// exec. The signal is sent when the *thread* that forked the child ends, so a child must be waited for
// by the thread that started it (RunChild does; torn never hands a Subprocess to another thread).
//
// The race, and how it is closed: torn may die after fork() and before the child's prctl(); the child
// would then have been reparented already and never get the signal. So the child compares getppid()
// with the pid its parent had before fork() right after prctl(), and exits when they differ.
//
// Who stops a child: torn, never a signal sent to the child from outside. A scheduler signals every
// process of a job at its time limit, and e2fsck catches SIGTERM and SIGINT: it then exits 32
// ("canceled") or, replaying a journal, 8 ("operational error"), an ordinary exit status that would
// be stored as a verdict and reused by the requeued run. So the child starts with SIGINT, SIGTERM and
// SIGHUP blocked (the mask survives exec; e2fsck, mke2fs and qemu keep it); torn gets the same signal,
// kills its children with SIGKILL (subprocess.h) and reads any result that ends after the signal as
// an interruption. A shell unblocks signals when it forks, so a child that is a script may still die
// of one: that too is an interruption.
//
// Between fork() and exec() the child (of a multi-threaded process) calls only async-signal-safe
// functions: setpgid, sigaction, sigprocmask, prctl, getppid, open, dup2, chdir, execve, write, _exit. Everything
// it needs (paths, argv, envp) is built by the parent beforehand. An exec failure travels back through
// a close-on-exec pipe as the child's errno, so a missing program is an error of Start, not a child
// that exits 127.
#pragma once

#include <sys/types.h>

#include "base/status.h"

namespace torn {

struct ChildSetup {
  const char* program = nullptr;  // a full path (execve does no PATH search)
  char* const* argv = nullptr;    // null-terminated
  char* const* envp = nullptr;    // null-terminated
  int output_fd = -1;             // becomes the child's stdout and stderr; -1: ours
  const char* cwd = nullptr;      // null: ours
};

// Forks and execs: stdin from /dev/null, a process group of its own, SIGINT/SIGTERM/SIGHUP/SIGPIPE at
// their default action with the first three blocked, killed by the kernel when the calling thread
// ends. Returns the child's pid
// once it has exec'ed.
Result<pid_t> SpawnChild(const ChildSetup& setup);

}  // namespace torn
