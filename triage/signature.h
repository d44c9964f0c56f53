// A violation's signature: its oracle and what failed, without the numbers of one crash state (inode,
// block, entry, transaction numbers), so that the violations of many states that fail the same way
// read as one bug. Computed from the verdict alone (its detail and the tool's output), so equal
// verdicts give equal signatures and a verdict reused from a class has its class's signature.
//
//   fsck      e2fsck's problem codes (e2fsprogs e2fsck/problem.h; the fsck oracle writes them to the
//             output as "[problems: 0x…]", oracles/fsck.h) of the step that failed — the -fn run, or
//             the journal replay when that failed (then -fn did not run) — and of those, the codes of
//             the earliest pass that found a problem (the code's third byte: 0 before pass 1, 1 inodes
//             and blocks, 2 directories, 3 connectivity, 4 reference counts, 5 group summaries). e2fsck
//             runs its passes in order over what the earlier ones concluded, so a later pass's problems
//             mostly restate an earlier one's (an entry to a cleared inode in pass 2 gives a wrong link
//             count in pass 4 and bitmap differences in pass 5); pass 5's own codes say which
//             summaries differ and for which groups and ranges, so when pass 5 is the earliest they
//             are reduced to the kinds of summary that differ (block bitmap, inode bitmap, free
//             counts). Measured on corpus/ext4-nobarrier (docs/triage.md): 614 failing states give
//             201 distinct full code sets but 13 signatures.
//               "e2fsck -fn: 0x020003,0x020047"      "journal replay: 0x000018,0x00002b (operational error)"
//               "e2fsck -fn: pass 5 (block bitmap, free counts)"
//             a step that failed without a problem code is named by how it ended:
//               "e2fsck -fn: operational error"      "e2fsck -fn: hung"
//             and an exit other than "errors left uncorrected" is added after the codes.
//   mount     the kernel's first ext4 error: function and message without numbers,
//               "EXT4-fs error (device loop0): ext4_lookup:1803: inode #12: comm ls: deleted inode
//                referenced: 17"  →  "ext4_lookup: deleted inode referenced";
//             a mount that failed without one: "mount failed: " and mount's or the kernel's line; a
//             check after the mount that failed: "after mount, " and the fsck signature; a guest that
//             died: the detail without numbers.
//   data      the rule and each finding's path and kind:
//               "at mark 'step-3': p/one missing; p/two other bytes"
//   ordering  the kinds of findings, without numbers, sorted and without repeats:
//               "in-place write at entry N (blocks N) is durable but the commit of transaction N that
//                journaled them (entry N) is not"
// Numbers are decimal runs and 0x-hex runs that do not continue a word (ext4_lookup, jbd2 stay), and a
// list of them ("N,N,N", "N,... (N blocks)") is one N. Mark names are kept: they are the trace's.
#pragma once

#include <string>
#include <string_view>

#include "oracles/verdict.h"

namespace torn::triage {

// The signature of a failed verdict; "" for a verdict that passed.
std::string SignatureOf(const oracles::Verdict& v);

// The pieces, for tests and for callers with only part of a verdict.
std::string FsckSignature(std::string_view output);        // the fsck oracle's output
// "0x020003,0x020047,0x040003,0x050003" -> "0x020003,0x020047"; pass 5 alone -> "pass 5 (…)".
std::string EarliestPassProblems(std::string_view codes);
std::string Ext4ErrorSignature(std::string_view line);     // one "EXT4-fs error …" kernel line
std::string StripNumbers(std::string_view text);

}  // namespace torn::triage
