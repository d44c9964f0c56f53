#include "models/content_tracker.h"

#include <algorithm>

namespace torn::models {

Status ContentTracker::Enter(size_t base_end, size_t last, bool keep_data) {
  TORN_RETURN_IF_ERROR(base_.Advance(base_end));
  entered_ = true;
  last_ = last;
  writes_.clear();
  data_.clear();
  const uint32_t ss = log_->sectorsize();
  size_t bits = 0;
  std::vector<uint64_t> sectors;
  for (size_t i = base_end; i <= last && i < log_->size(); ++i) {
    const trace::Entry& e = log_->entry(i);
    if (!e.changes_content()) continue;
    WindowWrite w{i, e.sector, static_cast<uint32_t>(e.nr_sectors), 0, bits, 0, e.discard()};
    bits += w.nr;
    for (uint64_t s = 0; s < w.nr; ++s) sectors.push_back(w.sector + s);
    writes_.push_back(w);
  }
  std::sort(sectors.begin(), sectors.end());
  sectors.erase(std::unique(sectors.begin(), sectors.end()), sectors.end());
  slots_ = std::move(sectors);

  // Candidates per slot, in log order (invariant 1).
  cand_begin_.assign(slots_.size() + 1, 0);
  for (WindowWrite& w : writes_) {
    w.first_slot = static_cast<uint32_t>(std::lower_bound(slots_.begin(), slots_.end(), w.sector) -
                                         slots_.begin());
    for (uint32_t s = 0; s < w.nr; ++s) ++cand_begin_[w.first_slot + s + 1];
  }
  for (size_t s = 0; s < slots_.size(); ++s) cand_begin_[s + 1] += cand_begin_[s];
  cand_.assign(cand_begin_.back(), 0);
  std::vector<uint32_t> fill(cand_begin_.begin(), cand_begin_.end() - 1);
  for (uint32_t wi = 0; wi < writes_.size(); ++wi)
    for (uint32_t s = 0; s < writes_[wi].nr; ++s) cand_[fill[writes_[wi].first_slot + s]++] = wi;

  // Each write sector's hash; its bytes too when asked.
  durable_.assign(bits, 0);
  sector_hash_.assign(bits, 0);
  std::vector<std::byte> scratch;
  for (WindowWrite& w : writes_) {
    if (w.discard) continue;
    std::span<std::byte> buf;
    if (keep_data) {
      w.data = data_.size();
      data_.resize(data_.size() + uint64_t{w.nr} * ss);
      buf = std::span(data_.data() + w.data, uint64_t{w.nr} * ss);
    } else {
      scratch.resize(uint64_t{w.nr} * ss);
      buf = scratch;
    }
    TORN_RETURN_IF_ERROR(log_->ReadData(w.entry, buf));
    for (uint32_t s = 0; s < w.nr; ++s)
      sector_hash_[w.bit + s] = SectorHash(buf.subspan(uint64_t{s} * ss, ss));
  }

  base_hash_.resize(slots_.size());
  term_.resize(slots_.size());
  hash_.resize(slots_.size());
  for (size_t s = 0; s < slots_.size(); ++s) {
    base_hash_[s] = hash_[s] = base_.hash(slots_[s]);
    term_[s] = Term(slots_[s], base_hash_[s]);
  }
  is_changed_.assign(slots_.size(), 0);
  changed_.clear();
  delta_ = 0;
  return Status::Ok();
}

std::optional<uint32_t> ContentTracker::WriteOf(size_t entry) const {
  auto it = std::lower_bound(writes_.begin(), writes_.end(), entry,
                             [](const WindowWrite& w, size_t e) { return w.entry < e; });
  if (it == writes_.end() || it->entry != entry) return std::nullopt;
  return static_cast<uint32_t>(it - writes_.begin());
}

void ContentTracker::Set(uint32_t w, uint32_t lo, uint32_t hi, bool durable) {
  const WindowWrite& ww = writes_[w];
  for (uint32_t s = lo; s < hi; ++s) {
    uint8_t& d = durable_[ww.bit + s];
    if (d == durable) continue;
    d = durable;
    uint32_t slot = ww.first_slot + s;
    if (!is_changed_[slot]) is_changed_[slot] = 1, changed_.push_back(slot);
  }
}

void ContentTracker::SetFromState(const CrashState& state) {
  size_t t = 0;  // state.torn is in entry order
  for (uint32_t w = 0; w < writes_.size(); ++w) {
    const WindowWrite& ww = writes_[w];
    while (t < state.torn.size() && state.torn[t].entry < ww.entry) ++t;
    if (t < state.torn.size() && state.torn[t].entry == ww.entry) {
      const auto& landed = state.torn[t].sectors;
      size_t k = 0;
      for (uint32_t s = 0; s < ww.nr; ++s) {
        bool on = k < landed.size() && landed[k] == s;
        k += on;
        Set(w, s, s + 1, on);
      }
      continue;
    }
    Set(w, 0, ww.nr, state.durable(ww.entry));
  }
}

void ContentTracker::Clear() {
  for (uint32_t w = 0; w < writes_.size(); ++w) Set(w, 0, writes_[w].nr, false);
}

std::optional<ContentTracker::Winner> ContentTracker::WinnerOf(uint32_t slot) const {
  for (uint32_t c = cand_begin_[slot + 1]; c-- > cand_begin_[slot];) {
    const WindowWrite& w = writes_[cand_[c]];
    uint32_t off = static_cast<uint32_t>(slots_[slot] - w.sector);
    if (durable_[w.bit + off]) return Winner{cand_[c], off};
  }
  return std::nullopt;
}

uint64_t ContentTracker::WinnerHash(uint32_t slot) const {
  auto win = WinnerOf(slot);
  if (!win) return base_hash_[slot];
  return sector_hash_[writes_[win->write].bit + win->offset];
}

void ContentTracker::Commit() {
  for (uint32_t slot : changed_) {
    hash_[slot] = WinnerHash(slot);
    uint64_t t = Term(slots_[slot], hash_[slot]);
    delta_ += t - term_[slot];
    term_[slot] = t;
    is_changed_[slot] = 0;
  }
  changed_.clear();
}

std::span<const std::byte> ContentTracker::data(uint32_t w) const {
  const WindowWrite& ww = writes_[w];
  return std::span(data_.data() + ww.data, uint64_t{ww.nr} * log_->sectorsize());
}

}  // namespace torn::models
