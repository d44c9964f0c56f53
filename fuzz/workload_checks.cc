#include "fuzz/workload_checks.h"

#include <sys/stat.h>

#include "fuzz/workload_codec.h"
#include "recorder/guest_report.h"
#include "workload/runner.h"

namespace torn::fuzz {
namespace {

using workload::Op;
using workload::OpKind;
using workload::Promise;
using workload::PromiseSet;
using Kind = Promise::Kind;

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kContent: return "content";
    case Kind::kExists: return "exists";
    case Kind::kDir: return "dir";
    case Kind::kEither: return "either";
  }
  return "?";
}

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

// Rule 1: the set against the tree.
std::string Consistent(const PromiseSet& set, const PromiseSet& tree) {
  for (const auto& [path, p] : set) {
    auto t = tree.find(path);
    std::string what = std::string(KindName(p.kind)) + " promise of " + path;
    if (t == tree.end()) return what + ": not in the tree";
    if ((p.kind == Kind::kDir) != (t->second.kind == Kind::kDir)) return what + ": the tree's kind differs";
    if (p.kind == Kind::kContent &&
        (p.ino != t->second.ino || p.size != t->second.size || p.md5 != t->second.md5))
      return what + ": the file now holds other bytes (size " + std::to_string(t->second.size) + ")";
    if (p.kind == Kind::kEither && !(p.size == t->second.size && p.md5 == t->second.md5) &&
        !(p.size2 == t->second.size && p.md5_2 == t->second.md5))
      return what + ": the file holds neither content";
  }
  return "";
}

// Rule 3: `after` promises nothing `before` did not.
std::string NotStronger(const PromiseSet& before, const PromiseSet& after) {
  for (const auto& [path, a] : after) {
    auto b = before.find(path);
    std::string what = std::string(KindName(a.kind)) + " promise of " + path;
    if (b == before.end()) return what + ": new";
    const Promise& o = b->second;
    if (a.bound && !o.bound) return what + ": bound, it was not";
    bool ok = a.kind == Kind::kDir       ? o.kind == Kind::kDir
              : a.kind == Kind::kContent ? o == a
              : a.kind == Kind::kEither  ? o.kind == Kind::kContent || o.kind == Kind::kEither
                                         : o.kind != Kind::kDir;
    if (!ok) return what + ": it was " + KindName(o.kind) + (o.kind == a.kind ? " with other facts" : "");
  }
  return "";
}

bool Strengthens(const Op& op) {
  switch (op.kind) {
    case OpKind::kFsync: case OpKind::kFdatasync: case OpKind::kSync: case OpKind::kSyncfs: return true;
    case OpKind::kPwrite: return op.sync;
    default: return false;
  }
}

// Rule 4.
std::string Persisted(const Op& op, const PromiseSet& before, const PromiseSet& after, const PromiseSet& tree) {
  if (op.kind != OpKind::kFsync && op.kind != OpKind::kFdatasync) return "";
  auto t = tree.find(op.path);
  if (op.path != "." && t == tree.end()) return "";  // a symlink: nothing promised
  if (op.path == "." || t->second.kind == Kind::kDir) {
    if (op.kind != OpKind::kFsync) return "";
    for (const auto& [path, f] : tree) {
      if (Parent(path) != op.path) continue;
      auto a = after.find(path);
      if (a == after.end()) return "entry " + path + " of the fsynced directory not promised";
      if ((a->second.kind == Kind::kDir) != (f.kind == Kind::kDir)) return "entry " + path + " promised as another kind";
    }
    return "";
  }
  auto b = before.find(op.path);
  if (b == before.end() || !b->second.bound || b->second.ino != t->second.ino || b->second.kind == Kind::kDir)
    return "";
  auto a = after.find(op.path);
  if (a == after.end() || a->second.kind != Kind::kContent) return "a bound promised file's content not promised";
  return "";
}

// Rule 5.
std::string ManifestParses(const PromiseSet& set) {
  auto report = recorder::ParseGuestReport(workload::ManifestLines("m", set));
  if (!report.ok()) return "manifest lines do not parse: " + report.status().message();
  auto m = report->manifests.find("m");
  if (m == report->manifests.end()) return "manifest lines parse to no manifest";
  size_t dirs = 1, files = 0;
  for (const auto& [path, p] : set) (p.kind == Kind::kDir ? dirs : files) += 1;
  if (m->second.dirs.size() != dirs || m->second.files.size() != files)
    return "manifest has " + std::to_string(m->second.files.size()) + " files and " +
           std::to_string(m->second.dirs.size()) + " dirs, the set " + std::to_string(files) + " and " +
           std::to_string(dirs);
  return "";
}

uint64_t Bucket(size_t n) { return n < 4 ? n : n < 8 ? 4 : n < 16 ? 5 : 6; }

}  // namespace

uint64_t Mix(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (uint64_t p : parts) {
    h ^= p + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h;
}

std::string CheckRoundTrip(const workload::Workload& w) {
  std::string text = workload::Print(w);
  auto back = workload::Parse(text);
  if (!back.ok()) return "Print's text does not parse: " + back.status().message() + "\n" + text;
  if (*back != w) return "Parse(Print(w)) differs from w:\n" + text;
  const auto& setup = Setup();
  workload::Workload steps(w.begin() + static_cast<long>(std::min(setup.size(), w.size())), w.end());
  auto enc = EncodeSteps(steps);
  if (!enc.ok()) return "a decoded workload does not encode: " + enc.status().message() + "\n" + text;
  if (DecodeSteps(*enc) != steps) return "Decode(Encode(steps)) differs from the steps:\n" + text;
  return "";
}

std::string CheckPromises(const workload::Workload& w, const std::string& root, const FeatureSink& feature) {
  workload::Runner runner(root);
  for (size_t i = 0; i < w.size(); ++i) {
    const Op& op = w[i];
    PromiseSet before = runner.promises();
    std::string failed = runner.Execute(i, op);
    const PromiseSet& after = runner.promises();
    PromiseSet tree = runner.Tree();
    auto fail = [&](const std::string& why) {
      return "op " + std::to_string(i + 1) + " '" + workload::PrintOp(op) + "'" +
             (failed.empty() ? "" : " (failed: " + failed + ")") + ": " + why;
    };
    if (!failed.empty()) feature(Mix({1, uint64_t(op.kind), std::hash<std::string>()(failed.substr(failed.rfind(':')))}));
    if (auto e = Consistent(after, tree); !e.empty()) return fail(e);
    if ((!Strengthens(op) || !failed.empty()))
      if (auto e = NotStronger(before, after); !e.empty()) return fail(e);
    if (failed.empty() && (op.kind == OpKind::kSync || op.kind == OpKind::kSyncfs) && after != tree)
      return fail("the set after sync is not the tree");
    if (failed.empty())
      if (auto e = Persisted(op, before, after, tree); !e.empty()) return fail(e);
    if (workload::IsPersistence(op) || op.kind == OpKind::kRename) {
      if (auto e = ManifestParses(after); !e.empty()) return fail(e);
      size_t by_kind[4] = {};
      for (const auto& [path, p] : after) ++by_kind[int(p.kind)];
      feature(Mix({2, uint64_t(op.kind), Bucket(by_kind[0]), Bucket(by_kind[1]), Bucket(by_kind[2]), Bucket(by_kind[3])}));
    }
  }
  return "";
}

void WorkloadFeatures(const workload::Workload& w, const FeatureSink& feature) {
  std::vector<NameKind> kinds = TargetKinds(w);
  auto detail = [](const Op& op) -> uint64_t {
    return op.kind == OpKind::kPwrite ? (op.direct ? 1 : 0) | (op.sync ? 2 : 0)
           : op.kind == OpKind::kFalloc ? 4 + uint64_t(op.falloc)
                                        : 0;
  };
  const Op* core = nullptr;
  for (size_t i = 0; i < w.size(); ++i) {
    const Op& op = w[i];
    feature(Mix({3, uint64_t(op.kind), detail(op), uint64_t(kinds[i])}));
    if (i > 0) feature(Mix({4, uint64_t(w[i - 1].kind), uint64_t(op.kind)}));
    if (op.kind == OpKind::kRename || op.kind == OpKind::kLink) {
      // The kind of the target name before the op: over a file, over a directory, a new name.
      workload::Workload probe(w.begin(), w.begin() + static_cast<long>(i));
      Op as_target = op;
      as_target.kind = OpKind::kFsync;
      as_target.path = op.path2;
      probe.push_back(as_target);
      feature(Mix({5, uint64_t(op.kind), uint64_t(kinds[i]), uint64_t(TargetKinds(probe).back())}));
    }
    if (workload::IsPersistence(op) && op.kind != OpKind::kPwrite) {
      bool same = core && (core->path == op.path || core->path2 == op.path || Parent(core->path) == op.path);
      feature(Mix({6, uint64_t(op.kind), core ? uint64_t(core->kind) : 99, core ? detail(*core) : 0, same,
                   uint64_t(kinds[i])}));
    } else {
      core = &op;
    }
  }
}

}  // namespace torn::fuzz
