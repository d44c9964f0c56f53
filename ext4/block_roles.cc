#include "ext4/block_roles.h"

// Placeholder: the implementation is being written (issue 10).
namespace torn::ext4 {

Result<BlockRoles> ComputeBlockRoles(ImageView&, const BlockRolesOptions&) {
  return Status(Code::kUnavailable, "not implemented yet");
}

Role BlockRoles::RoleOf(uint64_t) const { return Role::kUnreferenced; }

std::string_view RoleName(Role) { return "unknown"; }

}  // namespace torn::ext4
