// For the kill tests (kill_test.cc, kill_vm_test.cc): start torn, wait until it runs a child, kill torn
// the way a scheduler does, and tell whether its children are gone. Children are found through
// /proc (every process whose parent is torn), so the test names no child by guess.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/subprocess.h"

namespace torn::testing {

struct Proc {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  std::string comm;
};

// /proc/PID/stat's comm, state and parent; pid 0 when the process is gone.
inline Proc ReadProc(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return {};
  Proc p;
  p.pid = pid;
  p.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  rest >> p.state >> p.ppid;
  return p;
}

inline std::vector<Proc> ChildrenOf(pid_t parent) {
  std::vector<Proc> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    Proc p = ReadProc(pid);
    if (p.pid && p.ppid == parent) out.push_back(p);
  }
  ::closedir(d);
  return out;
}

// Alive: present and not a zombie (a killed child reparented to an init that does not reap stays one).
inline bool Alive(const Proc& child) {
  Proc now = ReadProc(child.pid);
  return now.pid && now.state != 'Z' && now.comm == child.comm;
}

// Waits up to `timeout` for torn (pid) to have a child whose name starts with `prefix` ("" for any).
inline std::vector<Proc> WaitForChild(pid_t torn, const std::string& prefix, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::vector<Proc> kids = ChildrenOf(torn);
    for (const Proc& k : kids)
      if (k.comm.rfind(prefix, 0) == 0) return kids;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

// The children still alive `grace` after torn died.
inline std::vector<Proc> Survivors(const std::vector<Proc>& children, std::chrono::milliseconds grace) {
  auto end = std::chrono::steady_clock::now() + grace;
  std::vector<Proc> alive;
  do {
    alive.clear();
    for (const Proc& c : children)
      if (Alive(c)) alive.push_back(c);
    if (alive.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < end);
  return alive;
}

inline std::string Describe(const std::vector<Proc>& procs) {
  std::string s;
  for (const Proc& p : procs) s += " " + p.comm + "[" + std::to_string(p.pid) + "]";
  return s;
}

}  // namespace torn::testing
