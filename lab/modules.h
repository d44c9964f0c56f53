// Kernel modules for the lab VM: which .ko files to put in the initramfs and in which order to load
// them, computed on the host from the kernel's own depmod output (modules.dep, modules.softdep,
// modules.alias), so the guest needs no modprobe.
//
// Rules:
//  1. A module is named by its file's base name without ".ko" (and a compression suffix), with '-'
//     and '_' equivalent ("dm-mod" == "dm_mod"), as modprobe does.
//  2. A module's hard dependencies (its modules.dep line) load before it; "softdep X pre: Y" loads Y
//     before X, where Y may be a module name or an alias ("crypto-crc32c") resolved through
//     modules.alias (exact alias lines only; wildcard aliases are ignored) to every module it names.
//     Soft dependencies are optional: the guest tries them and goes on when one refuses to load
//     (crc32c-intel on a CPU without SSE4.2 refuses; crc32c_generic then serves). A pre-softdep that
//     cannot be resolved at all is skipped, as modprobe does.
//  3. A name in modules.builtin needs nothing. A name that is neither built in nor in modules.dep is
//     an error that names the module and the kernel.
//  4. The result lists each module once, dependencies first, in a deterministic order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace torn::lab {

struct ModuleIndex {
  std::map<std::string, std::string> path;                    // name -> "kernel/.../x.ko"
  std::map<std::string, std::vector<std::string>> deps;       // name -> dependency names
  std::map<std::string, std::vector<std::string>> softdep_pre;
  std::map<std::string, std::vector<std::string>> alias;      // alias -> module names
  std::set<std::string> builtin;
};

// "kernel/drivers/md/dm-mod.ko" -> "dm_mod"; "dm-log-writes" -> "dm_log_writes".
std::string ModuleName(std::string_view path_or_name);

// Parses the text of modules.dep, modules.softdep, modules.alias and modules.builtin (any may be empty).
ModuleIndex ParseModuleIndex(std::string_view dep, std::string_view softdep, std::string_view alias,
                             std::string_view builtin);
// Reads those files from a modules directory (/lib/modules/VERSION).
Result<ModuleIndex> ReadModuleIndex(const std::string& modules_dir);

struct ModuleFile {
  std::string path;       // relative to the modules directory
  bool optional = false;  // only a soft dependency asked for it
  bool operator==(const ModuleFile&) const = default;
};

// The module files to load, in load order.
Result<std::vector<ModuleFile>> ResolveModules(const ModuleIndex& index,
                                                const std::vector<std::string>& names);

}  // namespace torn::lab
