#include "campaign/generate.h"

#include <algorithm>
#include <set>

#include "workload/op.h"

namespace torn::campaign {
namespace {

struct State {
  std::set<std::string> files{"f0", "d0/f1"}, dirs{"d0"}, xattrs, symlinks;
  bool Exists(const std::string& p) const {
    return files.count(p) || dirs.count(p) || symlinks.count(p);
  }
};

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

struct Core {
  std::string text;    // one line, no newline
  std::string target;  // what the persistence op acts on
  State after;
};

std::vector<Core> CoreOps(const State& s) {
  std::vector<Core> out;
  auto add = [&](std::string text, std::string target, State after) {
    out.push_back({std::move(text), std::move(target), std::move(after)});
  };
  const std::string news[] = {"f2", "d0/f3"};
  for (const auto& x : s.files) {
    for (const char* w : {"write X 0 4096", "write X 6000 3000", "pwrite X 0 4096 direct",
                          "pwrite X 4096 4096 sync", "truncate X 1000", "truncate X 12000",
                          "falloc X 0 8192 keep", "falloc X 0 4096 punch", "falloc X 0 4096 zero",
                          "falloc X 8192 8192"}) {
      std::string t = w;
      t.replace(t.find('X'), 1, x);
      add(t, x, s);
    }
    {
      State a = s;
      a.xattrs.insert(x);
      add("setxattr " + x + " user.a v", x, a);
    }
    if (s.xattrs.count(x)) {
      State a = s;
      a.xattrs.erase(x);
      add("removexattr " + x + " user.a", x, a);
    }
    {
      State a = s;
      a.files.erase(x);
      a.xattrs.erase(x);
      add("unlink " + x, Parent(x), a);
    }
    for (const auto& n : news) {
      if (s.Exists(n)) continue;
      State l = s;
      l.files.insert(n);
      add("link " + x + " " + n, n, l);
      State r = s;
      r.files.erase(x);
      r.files.insert(n);
      if (s.xattrs.count(x)) { r.xattrs.erase(x); r.xattrs.insert(n); }
      add("rename " + x + " " + n, n, r);
    }
    for (const auto& y : s.files) {
      if (y == x) continue;
      State r = s;
      r.files.erase(x);
      r.xattrs.erase(y);
      if (s.xattrs.count(x)) { r.xattrs.erase(x); r.xattrs.insert(y); }
      add("rename " + x + " " + y, y, r);
    }
    if (!s.Exists("s0")) {
      State a = s;
      a.symlinks.insert("s0");
      add("symlink " + x + " s0", ".", a);
    }
  }
  for (const auto& n : news) {
    if (s.Exists(n)) continue;
    State a = s;
    a.files.insert(n);
    add("creat " + n, n, a);
  }
  if (!s.Exists("d1")) {
    State a = s;
    a.dirs.insert("d1");
    add("mkdir d1", "d1", a);
  } else {
    State a = s;
    a.dirs.erase("d1");
    add("rmdir d1", ".", a);
  }
  return out;
}

std::vector<std::string> Persists(const State& s, const std::string& target) {
  std::vector<std::string> out;
  if (s.files.count(target)) {
    out.push_back("fsync " + target);
    out.push_back("fdatasync " + target);
    out.push_back("fsync " + Parent(target));
  } else if (s.dirs.count(target) || target == ".") {
    out.push_back("fsync " + target);
    if (target != ".") out.push_back("fsync " + Parent(target));
  }
  out.push_back("sync");
  return out;
}

void Walk(const State& s, int depth, int length, const std::string& prefix, std::vector<std::string>& out) {
  if (depth == length) {
    out.push_back(prefix);
    return;
  }
  for (const Core& c : CoreOps(s))
    for (const auto& p : Persists(c.after, c.target))
      Walk(c.after, depth + 1, length, prefix + c.text + "\n" + p + "\n", out);
}

}  // namespace

std::vector<std::string> GenerateWorkloads(const GenerateOptions& o) {
  std::vector<std::string> out;
  for (int len = 1; len <= std::clamp(o.max_length, 1, 3); ++len) Walk(State(), 0, len, kSetup, out);
  return out;
}

std::string StepsOf(const std::string& text) {
  auto w = workload::Parse(text);
  if (!w.ok()) return "?";
  auto setup = workload::Parse(kSetup);
  size_t skip = setup.ok() && text.starts_with(kSetup) ? setup->size() : 0;
  std::string out;
  for (size_t i = skip; i + 1 < w->size(); i += 2) {
    const auto& core = (*w)[i];
    const auto& persist = (*w)[i + 1];
    std::string p = workload::OpName(persist.kind);
    if ((persist.kind == workload::OpKind::kFsync || persist.kind == workload::OpKind::kFdatasync) &&
        (persist.path == "." || persist.path == "d0" || persist.path == "d1"))
      p += "-dir";
    std::string c = workload::OpName(core.kind);
    if (core.kind == workload::OpKind::kPwrite) c += core.direct ? "-direct" : "-sync";
    if (core.kind == workload::OpKind::kFalloc) {
      const char* m[] = {"", "-keep", "-punch", "-zero"};
      c += m[static_cast<int>(core.falloc)];
    }
    if (!out.empty()) out += ", ";
    out += c + "+" + p;
  }
  return out;
}

}  // namespace torn::campaign
