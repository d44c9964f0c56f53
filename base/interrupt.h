// Ctrl-C and SIGTERM: the first one sets a flag that long loops poll, so the stack unwinds and every
// RAII owner (loop device, mount, temporary file, child process) releases what it holds. A second one
// ends the process at once (the default action), for a user who really wants out.
#pragma once

#include "base/status.h"

namespace torn {

// Installs the handlers for SIGINT, SIGTERM and SIGHUP and unblocks them. Call once, early in main().
void InstallInterruptHandlers();
bool Interrupted();
// kInterrupted when a signal arrived, else ok: `TORN_RETURN_IF_ERROR(CheckInterrupted());`.
Status CheckInterrupted();
// The signal that interrupted us (for the exit status 128+N), or 0.
int InterruptSignal();

}  // namespace torn
