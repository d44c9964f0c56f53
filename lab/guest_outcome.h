// How a lab VM run ended, decided from what the host saw: the report channel's "TORN-EXIT <status>"
// line (written by the guest's /init, lab/initramfs.h), the console, and how qemu ended.
//
// Rules, first match wins:
//   1. torn stopped qemu for the time limit            -> kTimedOut
//   2. the user interrupted torn                       -> kInterrupted
//   3. the console holds "Kernel panic - not syncing"  -> kPanicked (even if qemu exited 0: panic=-1
//                                                         with -no-reboot turns a panic into an exit)
//   4. the report holds "TORN-EXIT N"                  -> kExited with the job's status N
//   5. anything else                                   -> kNoStatus (qemu failed to start, the guest
//                                                         powered off early, the report was lost)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/subprocess.h"

namespace torn::lab {

enum class Outcome { kExited, kPanicked, kTimedOut, kInterrupted, kNoStatus };

struct GuestOutcome {
  Outcome outcome = Outcome::kNoStatus;
  int job_status = -1;  // the job's exit status with kExited
  bool ok() const { return outcome == Outcome::kExited && job_status == 0; }
  // "the job exited with status 3", "the guest kernel panicked", ...
  std::string describe() const;
};

// The status in the last "TORN-EXIT N" line of the report, if any.
std::optional<int> ParseExitLine(std::string_view report);

GuestOutcome ClassifyGuest(const ExitStatus& qemu, std::string_view console, std::string_view report);

// The last `lines` lines of a console log, for error messages.
std::string ConsoleTail(std::string_view console, size_t lines = 20);

}  // namespace torn::lab
