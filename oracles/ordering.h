// The ordering oracle: jbd2's write-ahead rules, checked on the trace itself (ext4::JournalMap) for one
// crash state, without any image. A state breaks the rules when
//   (a) a transaction's commit block is durable while one of its own blocks (descriptor, revoke, or
//       journaled data block) is not, unless a journal checksum would catch it: for data blocks,
//       COMPAT_CHECKSUM (v1) or INCOMPAT_CSUM_V2/V3 (jbd2_format.h says what recovery then does);
//       a stale descriptor or revoke block is never caught, it silently ends recovery there;
//   (b) an in-place write of a journaled block is durable while the commit block of the transaction
//       that journaled it (the latest one before that write, ext4::JournalMap step 4) is not.
// Each finding names the transaction, the entries and the blocks. Cost: proportional to the
// transactions and in-place writes at or after the state's base (earlier ones are all durable).
#pragma once

#include <memory>
#include <vector>

#include "oracles/durable.h"
#include "ext4/journal_map.h"
#include "oracles/verdict.h"

namespace torn::oracles {

class OrderingOracle {
 public:
  explicit OrderingOracle(std::shared_ptr<const ext4::JournalMap> map);
  Verdict Check(const DurableView& state) const;
  // The entries in [base_end, last] whose durability Check() can depend on, for states that keep
  // everything before base_end and nothing after last (a window): the commit blocks logged there and
  // the blocks of transactions whose commit may be durable, and the in-place writes logged there whose
  // transaction's commit is not before base_end. Sorted, without repeats. A reduction (classes/)
  // never fixes one of them.
  std::vector<size_t> Relevant(size_t base_end, size_t last) const;
  const ext4::JournalMap& map() const { return *map_; }

 private:
  std::shared_ptr<const ext4::JournalMap> map_;
  std::vector<size_t> tx_by_last_entry_;      // transactions with a commit, by last_block_entry
  std::vector<size_t> in_place_by_commit_;    // in-place writes, by their transaction's commit entry
};

}  // namespace torn::oracles
