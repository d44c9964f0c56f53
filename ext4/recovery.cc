#include "ext4/recovery.h"

// Placeholder: the implementation is being written (issue 10).
namespace torn::ext4 {

Result<RecoveryResult> Recover(ImageView&) { return Status(Code::kUnavailable, "not implemented yet"); }

void ApplyRecovery(const RecoveryResult& result, ImageView& view) {
  for (const auto& w : result.writes) view.Put(w.block * result.block_size, w.bytes);
}

}  // namespace torn::ext4
