#include "workload/op.h"

#include <array>

namespace torn::workload {
namespace {

struct Spec {
  OpKind kind;
  const char* name;
};

constexpr std::array<Spec, 17> kSpecs{{
    {OpKind::kCreat, "creat"},       {OpKind::kWrite, "write"},         {OpKind::kPwrite, "pwrite"},
    {OpKind::kTruncate, "truncate"}, {OpKind::kFalloc, "falloc"},       {OpKind::kLink, "link"},
    {OpKind::kSymlink, "symlink"},   {OpKind::kRename, "rename"},       {OpKind::kUnlink, "unlink"},
    {OpKind::kMkdir, "mkdir"},       {OpKind::kRmdir, "rmdir"},         {OpKind::kSetxattr, "setxattr"},
    {OpKind::kRemovexattr, "removexattr"}, {OpKind::kFsync, "fsync"},   {OpKind::kFdatasync, "fdatasync"},
    {OpKind::kSync, "sync"},         {OpKind::kSyncfs, "syncfs"},
}};

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ValidPath(std::string_view p, bool root_ok) {
  if (p == ".") return root_ok;
  if (p.empty() || p.size() > kMaxPath || p.front() == '/' || p.back() == '/') return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view c = p.substr(start, end - start);
    if (c.empty() || c == "." || c == "..") return false;
    for (char ch : c) {
      bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '.' || ch == '_' || ch == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

bool Number(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 13) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > kMaxNumber) return false;
  out = v;
  return true;
}

// A word of an xattr name or value: printable, no blanks.
bool ValidWord(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

const char* FallocWord(FallocMode m) {
  switch (m) {
    case FallocMode::kDefault: return "";
    case FallocMode::kKeepSize: return "keep";
    case FallocMode::kPunchHole: return "punch";
    case FallocMode::kZeroRange: return "zero";
  }
  return "";
}

}  // namespace

const char* OpName(OpKind k) {
  for (const auto& s : kSpecs)
    if (s.kind == k) return s.name;
  return "?";
}

bool IsPersistence(const Op& op) {
  switch (op.kind) {
    case OpKind::kFsync: case OpKind::kFdatasync: case OpKind::kSync: case OpKind::kSyncfs: return true;
    case OpKind::kPwrite: return op.direct || op.sync;
    default: return false;
  }
}

std::string MarkName(size_t op_index, const Op& op) {
  return "op" + std::to_string(op_index + 1) + "-" + OpName(op.kind);
}

Result<Workload> Parse(std::string_view text) {
  Workload w;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto words = Words(line);
    if (words.empty() || words[0].front() == '#') continue;
    std::string where = "line " + std::to_string(line_no) + ": ";
    const Spec* spec = nullptr;
    for (const auto& s : kSpecs)
      if (words[0] == s.name) spec = &s;
    if (!spec) return BadInput(where + "unknown operation '" + std::string(words[0]) + "'");
    std::string name = spec->name;
    auto bad = [&](const std::string& why) { return BadInput(where + name + ": " + why); };
    Op op;
    op.kind = spec->kind;
    size_t n = words.size() - 1;
    auto path_at = [&](size_t i, bool root_ok, std::string& out) -> bool {
      if (!ValidPath(words[i], root_ok)) return false;
      out = std::string(words[i]);
      return true;
    };
    auto need = [&](size_t lo, size_t hi, const char* usage) -> Status {
      if (n < lo || n > hi) return bad(std::string("expected ") + usage);
      return Status::Ok();
    };
    auto bad_path = [&](std::string_view p) { return bad("bad path '" + std::string(p) + "' (relative, [A-Za-z0-9._-] components, no . or ..)"); };
    switch (op.kind) {
      case OpKind::kCreat: case OpKind::kUnlink: case OpKind::kMkdir: case OpKind::kRmdir: {
        if (auto st = need(1, 1, "PATH"); !st.ok()) return st;
        if (!path_at(1, false, op.path)) return bad_path(words[1]);
        break;
      }
      case OpKind::kFsync: case OpKind::kFdatasync: {
        if (auto st = need(1, 1, "PATH"); !st.ok()) return st;
        if (!path_at(1, true, op.path)) return bad_path(words[1]);
        break;
      }
      case OpKind::kSync: case OpKind::kSyncfs: {
        if (auto st = need(0, 0, "no arguments"); !st.ok()) return st;
        break;
      }
      case OpKind::kWrite: case OpKind::kPwrite: case OpKind::kFalloc: {
        bool pw = op.kind == OpKind::kPwrite, fa = op.kind == OpKind::kFalloc;
        const char* usage = pw ? "PATH OFF LEN [direct] [sync]" : fa ? "PATH OFF LEN [keep|punch|zero]" : "PATH OFF LEN";
        if (auto st = need(3, pw ? 5 : fa ? 4 : 3, usage); !st.ok()) return st;
        if (!path_at(1, false, op.path)) return bad_path(words[1]);
        if (!Number(words[2], op.offset)) return bad("bad offset '" + std::string(words[2]) + "'");
        if (!Number(words[3], op.length) || op.length == 0) return bad("bad length '" + std::string(words[3]) + "' (1 to 2^40)");
        for (size_t i = 4; i <= n; ++i) {
          std::string_view f = words[i];
          if (pw && f == "direct" && !op.direct) op.direct = true;
          else if (pw && f == "sync" && !op.sync) op.sync = true;
          else if (fa && i == 4 && f == "keep") op.falloc = FallocMode::kKeepSize;
          else if (fa && i == 4 && f == "punch") op.falloc = FallocMode::kPunchHole;
          else if (fa && i == 4 && f == "zero") op.falloc = FallocMode::kZeroRange;
          else return bad("unknown flag '" + std::string(f) + "' (expected " + usage + ")");
        }
        break;
      }
      case OpKind::kTruncate: {
        if (auto st = need(2, 2, "PATH SIZE"); !st.ok()) return st;
        if (!path_at(1, false, op.path)) return bad_path(words[1]);
        if (!Number(words[2], op.offset)) return bad("bad size '" + std::string(words[2]) + "'");
        break;
      }
      case OpKind::kLink: case OpKind::kSymlink: case OpKind::kRename: {
        if (auto st = need(2, 2, op.kind == OpKind::kSymlink ? "TARGET NEW" : "PATH NEW"); !st.ok()) return st;
        if (!path_at(1, false, op.path)) return bad_path(words[1]);
        if (!path_at(2, false, op.path2)) return bad_path(words[2]);
        break;
      }
      case OpKind::kSetxattr: case OpKind::kRemovexattr: {
        bool set = op.kind == OpKind::kSetxattr;
        if (auto st = need(set ? 3 : 2, set ? 3 : 2, set ? "PATH NAME VALUE" : "PATH NAME"); !st.ok()) return st;
        if (!path_at(1, false, op.path)) return bad_path(words[1]);
        if (!ValidWord(words[2]) || words[2].find('.') == std::string_view::npos)
          return bad("bad xattr name '" + std::string(words[2]) + "' (namespace.name, e.g. user.a)");
        op.path2 = std::string(words[2]);
        if (set) {
          if (!ValidWord(words[3])) return bad("bad value '" + std::string(words[3]) + "' (printable, no blanks)");
          op.value = std::string(words[3]);
        }
        break;
      }
    }
    w.push_back(std::move(op));
  }
  return w;
}

std::string PrintOp(const Op& op) {
  std::string s = OpName(op.kind);
  auto add = [&](const std::string& x) { s += " " + x; };
  switch (op.kind) {
    case OpKind::kSync: case OpKind::kSyncfs: break;
    case OpKind::kWrite: case OpKind::kPwrite: case OpKind::kFalloc:
      add(op.path); add(std::to_string(op.offset)); add(std::to_string(op.length));
      if (op.direct) add("direct");
      if (op.sync) add("sync");
      if (op.falloc != FallocMode::kDefault) add(FallocWord(op.falloc));
      break;
    case OpKind::kTruncate: add(op.path); add(std::to_string(op.offset)); break;
    case OpKind::kLink: case OpKind::kSymlink: case OpKind::kRename: add(op.path); add(op.path2); break;
    case OpKind::kSetxattr: add(op.path); add(op.path2); add(op.value); break;
    case OpKind::kRemovexattr: add(op.path); add(op.path2); break;
    default: add(op.path); break;
  }
  return s;
}

std::string Print(const Workload& w) {
  std::string out;
  for (const auto& op : w) out += PrintOp(op) + "\n";
  return out;
}

}  // namespace torn::workload
