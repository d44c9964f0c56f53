#include "checker/verify_classes.h"

namespace torn::checker {

Result<uint64_t> VerifyClasses(Context&, uint64_t) { return Status(Code::kUnavailable, "--verify-classes: not implemented yet"); }

}  // namespace torn::checker
