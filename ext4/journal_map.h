// JournalMap: the jbd2 journal of an ext4 file system, read from the trace itself (no image, no
// replay), for the ordering oracle.
//
// How it is found and read:
//   1. the ext4 super block: the last write in the trace that puts a valid one (magic 0xEF53) at byte
//      1024. Its s_jnl_blocks (the journal inode's i_block, backed up in the super block when
//      s_jnl_backup_type is 1) give the journal's extents, or its direct/indirect block map; index and
//      indirect blocks are read as the trace wrote them.
//   2. one pass over the entries in log order, split into file-system blocks. A write to journal block 0
//      updates the journal's parameters (features, s_first, s_maxlen, fast-commit area). A write of a
//      whole journal block that starts with the jbd2 magic is classified by its type: a descriptor (its
//      tags name, for each following journal block, the home block it carries), a commit, a revoke.
//      Data blocks are escaped by jbd2, so a block that starts with the magic is a real header.
//   3. at a transaction's commit, each of its data blocks is bound to the entry that last wrote that
//      journal block: jbd2 waits for its log blocks to complete before it submits the commit (except
//      with ASYNC_COMMIT, where checksums take over), and dm-log-writes logs in completion order.
//   4. a write of a block outside the journal is an in-place write; when some transaction journaled
//      that block earlier in the log (and no later revoke freed it), the write is tied to the latest
//      such transaction.
// Fast-commit blocks (the area after the main journal) are not interpreted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/status.h"
#include "ext4/jbd2_format.h"
#include "trace/log.h"

namespace torn::ext4 {

inline constexpr size_t kNoEntry = std::numeric_limits<size_t>::max();

struct JournalBlock {
  size_t entry = kNoEntry;  // the entry that wrote it (kNoEntry: not written in the trace)
  uint64_t slot = 0;        // journal block number
  uint64_t home = 0;        // data blocks: the file-system block it carries
};

struct Transaction {
  uint32_t sequence = 0;
  size_t commit = kNoEntry;  // entry of the commit block; kNoEntry if never committed in the trace
  uint64_t commit_slot = 0;
  std::vector<JournalBlock> descriptors, revokes, data;
  jbd2::Features features;   // the journal's features when the transaction committed
  size_t last_block_entry = 0;  // the highest entry among its blocks (for quick skipping)
};

struct InPlaceWrite {
  size_t entry = 0;
  size_t transaction = 0;        // index into JournalMap::transactions
  std::vector<uint64_t> blocks;  // the home blocks of that transaction it overwrites
};

struct JournalMap {
  uint32_t block_size = 0;
  uint64_t journal_blocks = 0;      // blocks in the journal inode
  std::vector<Transaction> transactions;
  std::vector<InPlaceWrite> in_place;
  std::string summary;              // "journal: 4096 blocks of 1024 bytes at ..., 4 transactions, ..."

  // Builds the map; kUnavailable when the trace holds no ext4 super block with an internal journal.
  static Result<JournalMap> Build(const trace::Log& log);
};

}  // namespace torn::ext4
