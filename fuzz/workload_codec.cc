#include "fuzz/workload_codec.h"

#include <map>
#include <set>

#include "campaign/generate.h"

namespace torn::fuzz {
namespace {

using workload::FallocMode;
using workload::Op;
using workload::OpKind;

constexpr size_t kKinds = 17;
const std::string kValues[4] = {"v", "w", std::string(64, 'x'), std::string(255, 'y')};
const char* const kXattrs[2] = {"user.a", "user.b"};

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}
bool Under(const std::string& p, const std::string& d) {
  return p == d || (p.size() > d.size() && p.compare(0, d.size(), d) == 0 && p[d.size()] == '/');
}

// The namespace the ops so far made: what a name is, which inode, its xattrs.
struct Model {
  struct Node {
    NameKind kind;
    uint64_t ino;
  };
  std::map<std::string, Node> names;  // "." is implied
  std::map<uint64_t, std::set<std::string>> xattrs;
  uint64_t next = 1;

  NameKind Kind(const std::string& p) const {
    if (p == ".") return NameKind::kDir;
    auto it = names.find(p);
    return it == names.end() ? NameKind::kNone : it->second.kind;
  }
  bool Free(const std::string& p) const { return p != "." && !names.count(p) && Kind(Parent(p)) == NameKind::kDir; }
  bool Empty(const std::string& d) const {
    for (const auto& [n, node] : names)
      if (n != d && Under(n, d)) return false;
    return true;
  }
  bool FileOrDir(const std::string& p) const {
    NameKind k = Kind(p);
    return k == NameKind::kFile || k == NameKind::kDir;
  }
  bool HasXattr(const std::string& p, const std::string& name) const {
    auto n = names.find(p);
    if (n == names.end()) return false;
    auto x = xattrs.find(n->second.ino);
    return x != xattrs.end() && x->second.count(name);
  }

  bool Valid(const Op& op) const {
    switch (op.kind) {
      case OpKind::kCreat: case OpKind::kMkdir: return Free(op.path);
      case OpKind::kWrite: case OpKind::kPwrite: case OpKind::kTruncate: case OpKind::kFalloc:
        return Kind(op.path) == NameKind::kFile;
      case OpKind::kLink: return Kind(op.path) == NameKind::kFile && Free(op.path2);
      case OpKind::kSymlink: return op.path != "." && Free(op.path2);
      case OpKind::kRename: {
        NameKind src = Kind(op.path), dst = Kind(op.path2);
        if (op.path == "." || op.path2 == "." || op.path == op.path2) return false;
        if (src != NameKind::kFile && src != NameKind::kDir) return false;
        if (Kind(Parent(op.path2)) != NameKind::kDir) return false;
        if (src == NameKind::kFile) return dst == NameKind::kNone || dst == NameKind::kFile;
        if (Under(op.path2, op.path)) return false;
        return dst == NameKind::kNone || (dst == NameKind::kDir && Empty(op.path2));
      }
      case OpKind::kUnlink: return Kind(op.path) == NameKind::kFile || Kind(op.path) == NameKind::kSymlink;
      case OpKind::kRmdir: return op.path != "." && Kind(op.path) == NameKind::kDir && Empty(op.path);
      case OpKind::kSetxattr: return op.path != "." && FileOrDir(op.path);
      case OpKind::kRemovexattr: return op.path != "." && HasXattr(op.path, op.path2);
      case OpKind::kFsync: case OpKind::kFdatasync: return FileOrDir(op.path);
      case OpKind::kSync: case OpKind::kSyncfs: return true;
    }
    return false;
  }

  void Apply(const Op& op) {
    switch (op.kind) {
      case OpKind::kCreat: names[op.path] = {NameKind::kFile, next++}; break;
      case OpKind::kMkdir: names[op.path] = {NameKind::kDir, next++}; break;
      case OpKind::kSymlink: names[op.path2] = {NameKind::kSymlink, next++}; break;
      case OpKind::kLink: names[op.path2] = names[op.path]; break;
      case OpKind::kUnlink: case OpKind::kRmdir: names.erase(op.path); break;
      case OpKind::kSetxattr: xattrs[names[op.path].ino].insert(op.path2); break;
      case OpKind::kRemovexattr: xattrs[names[op.path].ino].erase(op.path2); break;
      case OpKind::kRename: {
        auto dst = names.find(op.path2);
        if (dst != names.end() && dst->second.ino == names[op.path].ino) break;  // two links of one file
        std::map<std::string, Node> moved;
        for (auto it = names.begin(); it != names.end();) {
          if (Under(it->first, op.path)) {
            moved[op.path2 + it->first.substr(op.path.size())] = it->second;
            it = names.erase(it);
          } else {
            ++it;
          }
        }
        for (auto& [n, node] : moved) names[n] = node;
        break;
      }
      default: break;
    }
  }
};

bool HasPath(OpKind k) { return k != OpKind::kSync && k != OpKind::kSyncfs; }
bool HasPath2(OpKind k) { return k == OpKind::kLink || k == OpKind::kSymlink || k == OpKind::kRename; }
bool HasRange(OpKind k) { return k == OpKind::kWrite || k == OpKind::kPwrite || k == OpKind::kFalloc; }
bool HasOffset(OpKind k) { return HasRange(k) || k == OpKind::kTruncate; }
bool HasXattr(OpKind k) { return k == OpKind::kSetxattr || k == OpKind::kRemovexattr; }

// The op a record stands for, before the names are chosen.
Op Fields(std::span<const uint8_t, kRecordBytes> r) {
  Op op;
  op.kind = static_cast<OpKind>(r[0] % kKinds);
  const uint8_t flags = r[3];
  uint64_t off = uint64_t(r[4]) | uint64_t(r[5]) << 8, len = (uint64_t(r[6]) | uint64_t(r[7]) << 8) + 1;
  if (flags & 0x80) off *= 16;
  if (HasOffset(op.kind)) op.offset = off;
  if (HasRange(op.kind)) op.length = len;
  if (op.kind == OpKind::kPwrite) {
    op.direct = flags & 1;
    op.sync = flags & 2;
    if (op.direct) {  // O_DIRECT: offset and length aligned to the file system's 4 KiB blocks
      op.offset = op.offset / 4096 * 4096;
      op.length = (op.length + 4095) / 4096 * 4096;
    }
  }
  if (op.kind == OpKind::kFalloc) op.falloc = static_cast<FallocMode>((flags >> 2) & 3);
  if (HasXattr(op.kind)) op.path2 = kXattrs[(flags >> 4) & 1];
  if (op.kind == OpKind::kSetxattr) op.value = kValues[(flags >> 5) & 3];
  return op;
}

// Picks the names: the record's own if they fit the model, else the next ones in kNames order.
bool ChooseNames(const Model& m, Op& op, uint8_t p1, uint8_t p2) {
  if (!HasPath(op.kind)) return m.Valid(op);
  for (size_t i = 0; i < kNameCount; ++i) {
    op.path = kNames[(p1 + i) % kNameCount];
    if (!HasPath2(op.kind)) {
      if (m.Valid(op)) return true;
      continue;
    }
    for (size_t j = 0; j < kNameCount; ++j) {
      op.path2 = kNames[(p2 + j) % kNameCount];
      if (m.Valid(op)) return true;
    }
  }
  return false;
}

Model AfterSetup() {
  Model m;
  for (const Op& op : Setup()) m.Apply(op);
  return m;
}

int NameIndex(const std::string& p) {
  for (size_t i = 0; i < kNameCount; ++i)
    if (p == kNames[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace

const char* const kNames[kNameCount] = {".",  "f0",    "f2",    "f5",   "d0",    "d0/f1", "d0/f3",    "d1",
                                        "d1/f4", "s0", "d0/s1", "d0/d2", "d0/d2/f6", "d1/f0", "d2", "d2/d3"};

const workload::Workload& Setup() {
  static const workload::Workload setup = [] {
    auto w = workload::Parse(campaign::kSetup);
    return w.ok() ? *w : workload::Workload{};
  }();
  return setup;
}

workload::Workload DecodeSteps(std::span<const uint8_t> bytes) {
  workload::Workload out;
  Model m = AfterSetup();
  for (size_t at = 0; at + kRecordBytes <= bytes.size() && out.size() < kMaxSteps; at += kRecordBytes) {
    auto r = bytes.subspan(at).first<kRecordBytes>();
    Op op = Fields(r);
    if (!ChooseNames(m, op, r[1], r[2])) continue;
    m.Apply(op);
    out.push_back(std::move(op));
  }
  return out;
}

workload::Workload Decode(std::span<const uint8_t> bytes) {
  workload::Workload w = Setup();
  for (auto& op : DecodeSteps(bytes)) w.push_back(std::move(op));
  return w;
}

Result<std::vector<uint8_t>> EncodeSteps(const workload::Workload& steps) {
  std::vector<uint8_t> out;
  Model m = AfterSetup();
  if (steps.size() > kMaxSteps) return BadInput("more than " + std::to_string(kMaxSteps) + " steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    const Op& op = steps[i];
    auto bad = [&](const std::string& why) {
      return BadInput("op " + std::to_string(i + 1) + " '" + workload::PrintOp(op) + "': " + why);
    };
    uint8_t r[kRecordBytes] = {};
    r[0] = static_cast<uint8_t>(op.kind);
    if (HasPath(op.kind)) {
      int a = NameIndex(op.path);
      if (a < 0) return bad("name " + op.path + " not encodable");
      r[1] = static_cast<uint8_t>(a);
    }
    if (HasPath2(op.kind)) {
      int b = NameIndex(op.path2);
      if (b < 0) return bad("name " + op.path2 + " not encodable");
      r[2] = static_cast<uint8_t>(b);
    }
    uint8_t flags = 0;
    if (HasOffset(op.kind)) {
      uint64_t off = op.offset;
      if (off >= 65536) {
        if (off % 16 != 0 || off / 16 >= 65536) return bad("offset not encodable");
        off /= 16;
        flags |= 0x80;
      }
      r[4] = uint8_t(off), r[5] = uint8_t(off >> 8);
    }
    if (HasRange(op.kind)) {
      if (op.length == 0 || op.length > 65536) return bad("length not encodable (1 to 65536)");
      r[6] = uint8_t(op.length - 1), r[7] = uint8_t((op.length - 1) >> 8);
    }
    if (op.kind == OpKind::kPwrite) flags |= (op.direct ? 1 : 0) | (op.sync ? 2 : 0);
    if (op.kind == OpKind::kFalloc) flags |= static_cast<uint8_t>(static_cast<int>(op.falloc) << 2);
    if (HasXattr(op.kind)) {
      if (op.path2 == kXattrs[1]) flags |= 0x10;
      else if (op.path2 != kXattrs[0]) return bad("xattr name not encodable");
    }
    if (op.kind == OpKind::kSetxattr) {
      int v = -1;
      for (int k = 0; k < 4; ++k)
        if (op.value == kValues[k]) v = k;
      if (v < 0) return bad("xattr value not encodable");
      flags |= static_cast<uint8_t>(v << 5);
    }
    r[3] = flags;
    // What Decode makes of the record must be the op itself: valid where it stands, not repaired.
    Op back = Fields(std::span<const uint8_t, kRecordBytes>(r, kRecordBytes));
    if (!ChooseNames(m, back, r[1], r[2]) || !(back == op)) return bad("not valid here (Decode would repair it)");
    m.Apply(op);
    out.insert(out.end(), r, r + kRecordBytes);
  }
  return out;
}

Result<std::vector<uint8_t>> EncodeText(std::string_view text) {
  TORN_ASSIGN_OR_RETURN(workload::Workload w, workload::Parse(text));
  const auto& setup = Setup();
  if (w.size() < setup.size() || !std::equal(setup.begin(), setup.end(), w.begin()))
    return BadInput("the workload does not begin with the campaign's setup");
  return EncodeSteps(workload::Workload(w.begin() + static_cast<long>(setup.size()), w.end()));
}

std::vector<NameKind> TargetKinds(const workload::Workload& w) {
  Model m;
  std::vector<NameKind> out;
  for (const Op& op : w) {
    out.push_back(HasPath(op.kind) ? m.Kind(op.path) : NameKind::kNone);
    if (m.Valid(op)) m.Apply(op);
  }
  return out;
}

}  // namespace torn::fuzz
