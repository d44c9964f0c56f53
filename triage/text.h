// The triage in torn check's human report and in torn explain: a section per signature, short enough
// that a run with a thousand failing states fits on one screen (docs/triage.md says how that is
// checked):
//   signatures: N distinct failures in M failing states
//     #1 fsck       412 states (12 classes, 3 crash points)  e2fsck -fn: 0x020003,0x020047
//     …                                                        (at most `listed`, the rest counted)
//   then, per minimized signature, one line per write (at most `writes`):
//   #3 fsck, e.g. e2fsck -fn: exit 12: … (Directory inode 13, block #0, offset 0: directory corrupted)
//     state 250: 32 lost → 3 (1-minimal; 58 tests, 38 e2fsck runs, 0.5 s)
//       entry 115 META: block 4386 directory block of /p/r (inode 13); in place, journaled by …; after 'step-3'; …
//       reproduce: torn replay … --drop 115,141,161 … && e2fsck …
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/triage.h"

namespace torn::triage {

struct TextOptions {
  size_t listed = 8;          // signatures listed (all with `all`)
  size_t writes = 3;          // writes explained per minimal set (all with `all`)
  bool all = false;
};

std::string ToText(const Triage& t, const TextOptions& o);
// One minimization (MinimizedToJson's object) as text: the header line, its writes (one line each when
// `compact`, else a few), the reproduce command; each line starts with `indent`.
std::string MinimizationText(const nlohmann::json& m, const std::string& indent, size_t writes, bool compact = false);

}  // namespace torn::triage
