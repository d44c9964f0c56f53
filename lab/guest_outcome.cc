#include "lab/guest_outcome.h"

#include <charconv>

namespace torn::lab {

std::string GuestOutcome::describe() const {
  switch (outcome) {
    case Outcome::kExited:
      return job_status == 0 ? "the job succeeded" : "the job exited with status " + std::to_string(job_status);
    case Outcome::kPanicked:
      return "the guest kernel panicked";
    case Outcome::kTimedOut:
      return "the guest ran past its time limit";
    case Outcome::kInterrupted:
      return "interrupted";
    case Outcome::kNoStatus:
      return "the guest stopped without reporting a status";
  }
  return "?";
}

std::optional<int> ParseExitLine(std::string_view report) {
  std::optional<int> status;
  constexpr std::string_view kTag = "TORN-EXIT ";
  for (size_t at = report.find(kTag); at != std::string_view::npos; at = report.find(kTag, at + 1)) {
    if (at > 0 && report[at - 1] != '\n') continue;
    std::string_view rest = report.substr(at + kTag.size());
    int v = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec == std::errc() && (p == rest.data() + rest.size() || *p == '\n' || *p == '\r')) status = v;
  }
  return status;
}

GuestOutcome ClassifyGuest(const ExitStatus& qemu, std::string_view console, std::string_view report) {
  GuestOutcome g;
  if (qemu.how == ExitStatus::How::kTimedOut) g.outcome = Outcome::kTimedOut;
  else if (qemu.how == ExitStatus::How::kInterrupted) g.outcome = Outcome::kInterrupted;
  else if (console.find("Kernel panic - not syncing") != std::string_view::npos) g.outcome = Outcome::kPanicked;
  else if (auto s = ParseExitLine(report)) {
    g.outcome = Outcome::kExited;
    g.job_status = *s;
  }
  return g;
}

std::string ConsoleTail(std::string_view console, size_t lines) {
  size_t at = console.size();
  if (at > 0 && console[at - 1] == '\n') --at;
  for (size_t n = 0; at > 0; --at) {
    if (console[at - 1] == '\n' && ++n == lines) break;
  }
  std::string out(console.substr(at));
  std::string clean;
  for (char c : out) {
    if (c == '\r') continue;
    clean += c;
  }
  return clean;
}

}  // namespace torn::lab
