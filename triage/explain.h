// Explaining the writes of a minimal set (minimize.h): what each one is in the file system and where
// it sits in time.
//
// What: its sectors → file-system blocks → each block's role (ext4/block_roles.h) with its owner,
// read with libext2fs from the recovered image of the *intended* state (the failing state's crash
// point with nothing lost: the file system as the writes meant it), and, when it differs, its role in
// the failing minimal state's recovered image. Owners are named: inode numbers become paths (a walk
// of the directory tree from the root, ext2fs_get_pathname for directories it did not reach), inode
// table blocks list their inodes, a regular file's data block gives its offset in the file. Journal
// blocks get jbd2's view from the trace (ext4/journal_map.h): the descriptor, commit or revoke block
// of transaction T, or the journal copy of home block H (and H's role); an in-place write of a
// block a transaction journaled names that transaction and whether its commit is durable in the
// failing state.
// When: the mark before it (the workload's step), its barrier window (the last barrier before it and
// the next one, if the crash comes after it), and the commits logged before and after it — log order is
// completion order (dm-log-writes logs a write when it completes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "ext4/block_roles.h"
#include "triage/minimize.h"
#include "triage/rejudge.h"

namespace torn::triage {

struct BlockRun {               // consecutive blocks of one write with one role and owner
  uint64_t first = 0, count = 0;
  ext4::Role role = ext4::Role::kUnreferenced;
  uint32_t owner = 0;           // inode (inode roles) or group (static roles)
  std::string what;             // "inode table of group 0: inodes 12-19 (/p, /p/one)"
  std::string in_failing_state; // its role in the failing state's recovered image, when different
};

// What a write is in the jbd2 journal (ext4/journal_map.h).
struct JournalRole {
  std::string kind;                // "descriptor", "commit", "revoke", "data" (the copy of a home block)
  uint32_t transaction = 0;        // its sequence number
  uint64_t journal_block = 0;
  std::optional<uint64_t> home;    // data: the file-system block it carries
  std::string home_what;           // data: that block's role (as BlockRun::what)
  std::optional<size_t> commit;    // the transaction's commit entry (none: it never commits in the trace)
  bool commit_durable = false;     // in the failing state
};

// An in-place write of blocks a transaction journaled earlier in the log.
struct InPlace {
  std::vector<uint64_t> blocks;
  uint32_t transaction = 0;
  std::optional<size_t> commit;
  bool commit_durable = false;     // in the failing state
  // Whether journal recovery of the failing state replays the transaction (so that losing this write
  // is repaired), and if not why: "not replayed: the journal is empty", "... the log starts at
  // transaction 8". Empty when the failing state could not be recovered.
  std::string recovery;
};

struct Neighbour {                 // an entry near the write: a mark, a barrier, a commit
  size_t entry = 0;
  std::string name;                // the mark's name, the barrier's flags, the transaction's sequence
};

struct WriteExplanation {
  size_t entry = 0;
  std::optional<uint32_t> sector;  // one lost sector of a torn write
  std::string flags;               // "META", "FUA|META", "-"
  uint64_t byte_offset = 0, bytes = 0;
  std::vector<BlockRun> blocks;
  std::vector<JournalRole> journal;
  std::vector<InPlace> in_place;
  size_t crash_point = 0;
  std::optional<Neighbour> mark;                          // the last mark before it
  std::optional<Neighbour> barrier_before, barrier_after;  // its barrier window (after: none before the crash)
  std::optional<Neighbour> commit_before, commit_after;    // the commits logged around it
};

// Explains m.minimal; `judge` builds the images (its cache is untouched).
Result<std::vector<WriteExplanation>> Explain(Rejudge& judge, const Minimized& m);

nlohmann::json ToJson(const WriteExplanation& w);
// Back from ToJson's object (the role is left kUnreferenced: its name is in blocks[].role, its
// description in `what`), for a minimization read from the store.
WriteExplanation WriteExplanationFromJson(const nlohmann::json& j);
// A few lines, each starting with `indent`: the write and its blocks, its journal role, its time.
std::string ToText(const WriteExplanation& w, const std::string& indent, size_t max_blocks = 4);
// One line (torn check's report): the write, its first block's role or its jbd2 role, its time.
std::string CompactText(const WriteExplanation& w);

}  // namespace torn::triage
