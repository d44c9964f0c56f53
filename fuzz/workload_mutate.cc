#include "fuzz/workload_mutate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "fuzz/workload_codec.h"

namespace torn::fuzz {
namespace {

using Record = std::array<uint8_t, kRecordBytes>;

std::vector<Record> Records(std::span<const uint8_t> bytes) {
  std::vector<Record> out;
  for (size_t at = 0; at + kRecordBytes <= bytes.size(); at += kRecordBytes) {
    Record r;
    std::memcpy(r.data(), bytes.data() + at, kRecordBytes);
    out.push_back(r);
  }
  return out;
}

std::vector<uint8_t> Flat(const std::vector<Record>& rs) {
  std::vector<uint8_t> out;
  for (const auto& r : rs) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// Encode(Decode(bytes)): the records of the ops the bytes stand for. Never fails (a decoded op is
// always encodable); an empty vector if it did.
std::vector<uint8_t> Canonical(std::span<const uint8_t> bytes) {
  auto enc = EncodeSteps(DecodeSteps(bytes));
  return enc.ok() ? *enc : std::vector<uint8_t>{};
}

size_t Emit(const std::vector<uint8_t>& canonical, uint8_t* out, size_t max_size) {
  size_t n = std::min(canonical.size(), max_size / kRecordBytes * kRecordBytes);
  if (n) std::memcpy(out, canonical.data(), n);  // an empty vector's data() may be null
  return n;
}

constexpr uint16_t kInteresting[] = {0, 1, 511, 512, 1000, 4095, 4096, 4097, 6000, 8191, 8192, 12000, 65535};

}  // namespace

size_t MutateWorkload(uint8_t* data, size_t size, size_t max_size, unsigned seed, const ByteMutator& bytes) {
  std::minstd_rand rng(seed);
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  const std::vector<uint8_t> before = Canonical({data, size});
  const size_t max_records = std::min(kMaxSteps, max_size / kRecordBytes);
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::vector<Record> rs = Records(before);
    Record fresh;
    for (auto& b : fresh) b = static_cast<uint8_t>(rng());
    const size_t at = pick(rs.size());
    switch (rs.empty() ? 0 : pick(9)) {
      case 0: rs.insert(rs.begin() + static_cast<long>(pick(rs.size() + 1)), fresh); break;  // insert
      case 1: rs.erase(rs.begin() + static_cast<long>(at)); break;                          // delete
      case 2: rs[at] = fresh; break;                                                           // replace
      case 3: rs[at][0] = fresh[0]; break;                                                     // kind
      case 4: rs[at][1 + pick(2)] = static_cast<uint8_t>(pick(kNameCount)); break;             // a name
      case 5: rs[at][3] ^= static_cast<uint8_t>(1u << pick(8)); break;                         // a flag
      case 6: {  // offset or length: an interesting value or libFuzzer's byte mutation of it
        uint8_t* f = rs[at].data() + (pick(2) ? 4 : 6);
        if (pick(2)) {
          uint16_t v = kInteresting[pick(std::size(kInteresting))];
          f[0] = uint8_t(v), f[1] = uint8_t(v >> 8);
        } else {
          uint8_t two[2] = {f[0], f[1]};
          if (bytes(two, 2, 2) == 2) f[0] = two[0], f[1] = two[1];
        }
        break;
      }
      case 7: std::swap(rs[at], rs[pick(rs.size())]); break;  // swap
      case 8: {  // a persistence op (fsync, fdatasync, sync, syncfs) on what op `at` touched
        const uint8_t kinds[] = {13, 14, 15, 16};
        Record p = rs[at];
        if (p[0] % 17 >= 5 && p[0] % 17 <= 7 && pick(2)) p[1] = p[2];  // link, symlink, rename: the new name
        p[0] = kinds[pick(4)];
        rs.insert(rs.begin() + static_cast<long>(at) + 1, p);
        break;
      }
    }
    if (rs.size() > max_records) rs.resize(max_records);
    std::vector<uint8_t> after = Canonical(Flat(rs));
    if (after != before || attempt == 7) return Emit(after, data, max_size);
  }
  return Emit(before, data, max_size);
}

size_t CrossOverWorkloads(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size, uint8_t* out,
                          size_t max_size, unsigned seed) {
  std::minstd_rand rng(seed);
  std::vector<Record> ra = Records(Canonical({a, a_size})), rb = Records(Canonical({b, b_size}));
  size_t cut_a = ra.empty() ? 0 : rng() % (ra.size() + 1), cut_b = rb.empty() ? 0 : rng() % (rb.size() + 1);
  std::vector<Record> rs(ra.begin(), ra.begin() + static_cast<long>(cut_a));
  rs.insert(rs.end(), rb.begin() + static_cast<long>(cut_b), rb.end());
  if (rs.size() > kMaxSteps) rs.resize(kMaxSteps);
  return Emit(Canonical(Flat(rs)), out, max_size);
}

}  // namespace torn::fuzz
