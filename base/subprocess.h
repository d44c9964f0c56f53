// Child processes, spawned the one safe way: from an argv vector (never a shell string), stdin from
// /dev/null, every fd of ours close-on-exec, in a process group of its own so a time limit or an
// interrupt kills the child and everything it started. A Subprocess that goes out of scope kills and
// reaps its group: no child outlives the object that started it. Nor torn itself: the kernel kills
// the child when torn dies, even of SIGKILL (PR_SET_PDEATHSIG, base/spawn.h).
//
// How a child ended is decoded once, in DecodeWaitStatus(); what a tool's exit code means (e2fsck's
// bits, for example) is the business of the stage that runs the tool.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace torn {

struct ExitStatus {
  enum class How { kExited, kSignaled, kTimedOut, kInterrupted };
  How how = How::kExited;
  int code = 0;    // exit code when kExited
  int signal = 0;  // the signal when kSignaled
  bool success() const { return how == How::kExited && code == 0; }
  // "exit code 4", "killed by signal 11 (Segmentation fault)", "timed out after 30 s".
  std::string describe() const;
};

// Turns a waitpid() status into an ExitStatus.
ExitStatus DecodeWaitStatus(int wait_status);

struct SpawnOptions {
  std::vector<std::string> argv;            // argv[0] is looked up on PATH
  std::vector<std::string> env;             // "NAME=value" added to (or replacing in) our environment
  std::string cwd;                          // empty: ours
  std::chrono::milliseconds timeout{0};     // 0: no limit
  bool inherit_output = false;              // child writes to our stdout/stderr, nothing captured
  size_t capture_limit = 1 << 20;           // keep at most this many bytes (the tail) of the output
  // Called with each chunk of the child's output (stdout and stderr merged) as it arrives.
  std::function<void(std::string_view)> on_output;
};

struct RunResult {
  ExitStatus status;
  std::string output;  // stdout and stderr merged, at most capture_limit bytes (the tail)
  double seconds = 0;
};

// Runs the child to completion (or its time limit, or an interrupt). The Status is an error only when
// the child could not be started; how it ended is in RunResult::status.
Result<RunResult> RunChild(const SpawnOptions& options);

// A child started with Start() and waited for with Wait(); killed and reaped by the destructor.
class Subprocess {
 public:
  static Result<Subprocess> Start(const SpawnOptions& options);
  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&& o) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Pumps output and waits; honours the time limit and interrupts.
  RunResult Wait();
  // SIGKILL to the whole process group.
  void Kill();

 private:
  Subprocess() = default;
  SpawnOptions options_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// Shell-quoted rendering of an argv, for messages and repro scripts (never executed by torn).
std::string QuoteArgv(const std::vector<std::string>& argv);

// The full path of a program on PATH (and /sbin, /usr/sbin), or empty.
std::string FindProgram(std::string_view name);

}  // namespace torn
