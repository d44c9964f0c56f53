// --verify-classes N: the self-check of the reduction (run.h). For every class judged, N random
// members of it (a random group mapped to the class, a random subset of that group's fixed writes)
// are built for real; each is analyzed in process and must have the class's key; then real e2fsck
// replays its journal under a fixed clock (libfaketime), and the image e2fsck left must equal the
// member's in-process recovered image on every metadata sector (the super block fields e2fsck stamps
// left out), and e2fsck's verdict must be the class's. A mismatch is an error (exit 2) naming the state
// and the region (block and role) that differs.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "checker/run_context.h"

namespace torn::checker {

// Returns how many members were built and compared.
Result<uint64_t> VerifyClasses(Context& c, uint64_t per_class);

}  // namespace torn::checker
