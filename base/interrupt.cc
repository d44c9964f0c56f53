#include "base/interrupt.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>

namespace torn {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) {
  g_signal.store(sig);
  // Back to the default action: a second signal ends the process.
  ::signal(sig, SIG_DFL);
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR and the caller polls the flag
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  // A parent may have started us with them blocked (torn blocks them in its own children, spawn.h):
  // here they are ours to handle. Before any thread starts, so that every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

bool Interrupted() { return g_signal.load() != 0; }
int InterruptSignal() { return g_signal.load(); }

Status CheckInterrupted() {
  if (!Interrupted()) return Status::Ok();
  return {Code::kInterrupted, "interrupted by signal " + std::to_string(g_signal.load())};
}

}  // namespace torn
