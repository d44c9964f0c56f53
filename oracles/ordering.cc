#include "oracles/ordering.h"

#include <algorithm>

#include <fmt/core.h>

namespace torn::oracles {

using ext4::InPlaceWrite;
using ext4::JournalBlock;
using ext4::JournalMap;
using ext4::kNoEntry;
using ext4::Transaction;
namespace jbd2 = ext4::jbd2;

OrderingOracle::OrderingOracle(std::shared_ptr<const JournalMap> map) : map_(std::move(map)) {
  const auto& txs = map_->transactions;
  for (size_t t = 0; t < txs.size(); ++t)
    if (txs[t].commit != kNoEntry) tx_by_last_entry_.push_back(t);
  std::sort(tx_by_last_entry_.begin(), tx_by_last_entry_.end(), [&](size_t a, size_t b) {
    return txs[a].last_block_entry < txs[b].last_block_entry;
  });
  for (size_t w = 0; w < map_->in_place.size(); ++w) in_place_by_commit_.push_back(w);
  auto commit_of = [&](size_t w) { return txs[map_->in_place[w].transaction].commit; };
  std::stable_sort(in_place_by_commit_.begin(), in_place_by_commit_.end(),
                   [&](size_t a, size_t b) { return commit_of(a) < commit_of(b); });
}

namespace {

std::string Blocks(const std::vector<uint64_t>& b) {
  std::string s;
  for (size_t i = 0; i < b.size() && i < 8; ++i) s += (i ? "," : "") + std::to_string(b[i]);
  if (b.size() > 8) s += fmt::format(",... ({} blocks)", b.size());
  return s;
}

}  // namespace

Verdict OrderingOracle::Check(const DurableView& durable) const {
  Verdict v;
  v.oracle = Oracle::kOrdering;
  std::vector<std::string> findings;
  const auto& txs = map_->transactions;
  const size_t base = durable.base_end();

  // (a) Only transactions with a block at or after the base can miss one.
  auto first_a = std::lower_bound(tx_by_last_entry_.begin(), tx_by_last_entry_.end(), base,
                                  [&](size_t t, size_t e) { return txs[t].last_block_entry < e; });
  for (auto it = first_a; it != tx_by_last_entry_.end(); ++it) {
    const Transaction& tx = txs[*it];
    if (!durable(tx.commit)) continue;
    auto report = [&](const char* what, const JournalBlock& b, const std::string& extra) {
      findings.push_back(fmt::format(
          "transaction {}: commit block (entry {}, journal block {}) is durable but its {} (entry {}, "
          "journal block {}{}) is not{}",
          tx.sequence, tx.commit, tx.commit_slot, what, b.entry, b.slot, extra,
          std::string(what) == "data block" ? " and no journal checksum covers it"
                                             : ": recovery stops there and loses the transaction"));
    };
    for (const auto& d : tx.descriptors)
      if (!durable(d.entry)) report("descriptor block", d, "");
    for (const auto& r : tx.revokes)
      if (!durable(r.entry)) report("revoke block", r, "");
    if (!tx.features.data_checksummed()) {
      for (const auto& d : tx.data)
        if (d.entry != kNoEntry && !durable(d.entry))
          report("data block", d, fmt::format(", home block {}", d.home));
    }
  }

  // (b) Only in-place writes whose transaction committed at or after the base (or never).
  auto first_b = std::lower_bound(in_place_by_commit_.begin(), in_place_by_commit_.end(), base,
                                  [&](size_t w, size_t e) {
                                    return txs[map_->in_place[w].transaction].commit < e;
                                  });
  for (auto it = first_b; it != in_place_by_commit_.end(); ++it) {
    const InPlaceWrite& w = map_->in_place[*it];
    const Transaction& tx = txs[w.transaction];
    if (!durable(w.entry) || (tx.commit != kNoEntry && durable(tx.commit))) continue;
    findings.push_back(fmt::format(
        "in-place write at entry {} (blocks {}) is durable but the commit of transaction {} that "
        "journaled them {}",
        w.entry, Blocks(w.blocks), tx.sequence,
        tx.commit == kNoEntry ? std::string("never happens in the trace")
                              : fmt::format("(entry {}) is not", tx.commit)));
  }

  for (const auto& f : findings) v.output += f + "\n";
  if (!findings.empty()) {
    v.ok = false;
    v.detail = findings.front();
    if (findings.size() > 1) v.detail += fmt::format(" (and {} more)", findings.size() - 1);
  }
  return v;
}

std::vector<size_t> OrderingOracle::Relevant(size_t base_end, size_t last) const {
  std::vector<size_t> out;
  auto in_window = [&](size_t e) { return e != kNoEntry && e >= base_end && e <= last; };
  const auto& txs = map_->transactions;
  for (const Transaction& tx : txs) {
    if (tx.commit == kNoEntry || tx.commit > last || tx.last_block_entry < base_end) continue;
    if (in_window(tx.commit)) out.push_back(tx.commit);
    for (const auto* blocks : {&tx.descriptors, &tx.revokes, &tx.data})
      for (const JournalBlock& b : *blocks)
        if (in_window(b.entry)) out.push_back(b.entry);
  }
  for (const InPlaceWrite& w : map_->in_place) {
    const Transaction& tx = txs[w.transaction];
    if (!in_window(w.entry) || (tx.commit != kNoEntry && tx.commit < base_end)) continue;
    out.push_back(w.entry);
    if (in_window(tx.commit)) out.push_back(tx.commit);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace torn::oracles
