#include "classes/class_key.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack needs its definition
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

namespace torn::classes {
namespace {

using ext4::kSector;
using ext4::SectorSet;

// The sectors of file-system blocks [block, block + count).
void AddBlocks(SectorSet& set, uint64_t block, uint64_t count, uint32_t block_size) {
  set.Add(block * (block_size / kSector), count * (block_size / kSector));
}

// Calls f(first, end) for each maximal sector range of `a` outside `b`.
template <typename F>
void ForEachOutside(const SectorSet& a, const SectorSet& b, F f) {
  for (auto [lo, hi] : a.ranges()) {
    uint64_t at = lo;
    auto it = b.ranges().upper_bound(at);
    if (it != b.ranges().begin()) --it;
    for (; it != b.ranges().end() && it->first < hi; ++it) {
      if (it->second <= at) continue;
      if (it->first > at) f(at, std::min(it->first, hi));
      at = std::max(at, it->second);
      if (at >= hi) break;
    }
    if (at < hi) f(at, hi);
  }
}

class Hasher {
 public:
  Hasher() { XXH3_128bits_reset(&state_); }
  void Bytes(const void* p, size_t n) { XXH3_128bits_update(&state_, p, n); }
  void U64(uint64_t v) { Bytes(&v, sizeof v); }
  void Text(std::string_view s) {
    U64(s.size());
    Bytes(s.data(), s.size());
  }
  ClassKey Digest() {
    XXH128_hash_t h = XXH3_128bits_digest(&state_);
    return {h.high64, h.low64};
  }

 private:
  XXH3_state_t state_;
};

// Hashes the sectors [first, end) as `view` reads them (index and bytes), with the super block fields
// e2fsck stamps zeroed when `normalize`.
Status HashSectors(ext4::ImageView& view, uint64_t first, uint64_t end, bool normalize, Hasher& h,
                   std::vector<std::byte>& buf) {
  constexpr uint64_t kChunk = 2048;  // sectors (1 MiB) per read
  for (uint64_t at = first; at < end;) {
    uint64_t n = std::min(kChunk, end - at);
    buf.resize(n * kSector);
    TORN_RETURN_IF_ERROR(view.Read(at * kSector, buf));
    if (normalize) {
      // The primary super block is bytes [1024, 2048) of the image.
      for (auto [off, len] : ext4::kStampedSuperFields) {
        uint64_t byte = 1024 + off;
        if (byte >= at * kSector && byte + len <= (at + n) * kSector)
          std::memset(buf.data() + (byte - at * kSector), 0, len);
      }
    }
    h.U64(at);
    h.U64(n);
    h.Bytes(buf.data(), buf.size());
    at += n;
  }
  return Status::Ok();
}

}  // namespace

std::string ClassKey::Hex() const { return fmt::format("{:016x}{:016x}", hi, lo); }

std::optional<ClassKey> ClassKey::FromHex(std::string_view hex) {
  if (hex.size() != 32 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  return ClassKey{std::stoull(std::string(hex.substr(0, 16)), nullptr, 16),
                  std::stoull(std::string(hex.substr(16)), nullptr, 16)};
}

ClassKey RawKey(uint64_t raw_digest, int data_key) {
  Hasher h;
  h.Text("torn raw image v1");
  h.U64(raw_digest);
  h.U64(static_cast<uint64_t>(data_key));
  return h.Digest();
}

Result<Analysis> Analyze(ext4::ImageView& view, const KeyOptions& options) {
  Analysis a;
  a.key = RawKey(options.raw_digest, options.data_key);
  view.ClearOverlay();
  view.RecordInto(&a.pre_reads, /*file_only=*/true);  // what it read of the state before writing there
  auto recovered = ext4::Recover(view);
  view.RecordInto(nullptr);
  if (!recovered.ok()) return recovered.status();
  a.recovery = std::move(recovered).value();
  const ext4::RecoveryResult& r = a.recovery;
  if (r.outcome == ext4::RecoveryOutcome::kUnsupported) {
    a.why_not = "journal recovery: " + r.why;
    return a;
  }
  // Where e2fsck's recovery fails on a fast_commit file system (a head tag of another transaction:
  // -EINVAL), the kernel's goes on (its scan stops there and the log is replayed), and the checker
  // judges such states after the kernel's replay (oracles/kernel_replay.h). That replay reads log
  // blocks e2fsck's failed scan never read, so the key would not cover what decides the verdict.
  if (r.fast_commit && r.outcome == ext4::RecoveryOutcome::kReplayed && r.error != 0) {
    a.why_not = fmt::format("journal recovery: e2fsck's fails (error {}) on a fast_commit file system, where "
                            "the kernel's may not",
                            r.error);
    return a;
  }

  // Where the journal lies, and the part of its log the scan may read past the committed part.
  for (uint64_t b : r.journal_map) AddBlocks(a.journal, b, 1, r.block_size);
  auto committed = [&](uint32_t j) {
    if (r.log_start == 0) return false;  // no scan ran: no block of the log is read
    return r.log_start <= r.committed_end ? j >= r.log_start && j < r.committed_end
                                          : j >= r.log_start || j < r.committed_end;
  };
  for (uint32_t j = r.log_first; j < r.log_end && j < r.journal_map.size(); ++j)
    if (!committed(j)) AddBlocks(a.log_tail, r.journal_map[j], 1, r.block_size);
  for (uint64_t b : r.written) AddBlocks(a.overwritten, b, 1, r.block_size);

  Hasher h;
  h.Text("torn class v1");
  h.U64(static_cast<uint64_t>(r.outcome));
  h.U64(static_cast<uint64_t>(static_cast<int64_t>(r.error)));
  h.U64(r.failed_commit);
  std::vector<std::byte> buf;
  // What recovery read of the state before it wrote anything (the overlay is still empty), but the
  // log past its committed part: the scan read it only to find where the log ends (unit_proof.h,
  // rule 2), which the outcome says.
  Status st = Status::Ok();
  ForEachOutside(a.pre_reads, a.log_tail, [&](uint64_t lo, uint64_t hi) {
    if (st.ok()) st = HashSectors(view, lo, hi, /*normalize=*/false, h, buf);
  });
  TORN_RETURN_IF_ERROR(st);

  ext4::ApplyRecovery(r, view);
  TORN_ASSIGN_OR_RETURN(a.roles, ext4::ComputeBlockRoles(view, {.read_files = options.read_files}));
  if (!a.roles.complete) {
    view.ClearOverlay();
    a.why_not = "block roles: " + a.roles.why;
    return a;
  }
  h.Text("metadata");
  for (auto [lo, hi] : a.roles.metadata.ranges()) {
    h.U64(lo);
    h.U64(hi);
  }
  for (auto [lo, hi] : a.roles.metadata.ranges())
    TORN_RETURN_IF_ERROR(HashSectors(view, lo, hi, /*normalize=*/true, h, buf));
  h.Text("data rule");
  h.U64(static_cast<uint64_t>(options.data_key));
  a.key = h.Digest();
  a.reduced = true;
  return a;
}

}  // namespace torn::classes
