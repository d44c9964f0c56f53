#include "oracles/data.h"

#include <algorithm>

#include <fmt/core.h>

#include "ext4/ext4_files.h"

namespace torn::oracles {

using ext4::Ext4Image;
using ext4::FileFacts;

Result<DataPlan> DataPlan::Build(const trace::Log& log, const trace::Expectations& expectations) {
  DataPlan plan;
  struct Found {
    size_t entry;
    std::string mark;
  };
  std::vector<Found> marks;
  for (const auto& [name, manifest] : expectations) {
    auto entry = log.FindMark(name);
    if (!entry) {
      return BadInput(log.name() + ": the expectations have a manifest for mark '" + name +
                      "', which the trace does not have");
    }
    marks.push_back({*entry, name});
  }
  std::sort(marks.begin(), marks.end(), [](const Found& a, const Found& b) { return a.entry < b.entry; });
  // A partial manifest (trace::Manifest::partial: one fsync's promise) covers only the files it
  // lists and no directory; a whole manifest covers every path (a path it does not list is absent).
  // For the crash points in [Mi, Mi+1), a file is stable when the last manifest at or before Mi that
  // covers it lists it and the first manifest after Mi that covers it promises the same (or, for a
  // file with alternatives, one of them): it was not modified in between. Without partial manifests
  // the covering manifests are Mi and Mi+1, the rule of data.h. Directories: the whole manifests.
  std::vector<const trace::Manifest*> ms;
  for (const auto& m : marks) ms.push_back(&expectations.at(m.mark));
  auto find = [&](size_t j, const std::string& path) -> const trace::FileExpectation* {
    for (const auto& f : ms[j]->files)
      if (f.path == path) return &f;
    return nullptr;
  };
  auto covers = [&](size_t j, const std::string& path) { return !ms[j]->partial || find(j, path) != nullptr; };
  auto same_promise = [](const trace::FileExpectation& f, const trace::FileExpectation& g) {
    // The same promise, or (for a file that may hold one of several contents) a later promise of one
    // of them: what is durable then is one of the earlier options.
    if (f == g) return true;
    return !f.alternatives.empty() && !g.any_content && g.alternatives.empty() && f.Holds(g.size, g.md5);
  };
  for (size_t i = 0; i < marks.size(); ++i) {
    DataRule r;
    r.mark = marks[i].mark;
    r.mark_entry = marks[i].entry;
    r.manifest = *ms[i];
    if (i + 1 < marks.size()) r.next_mark = marks[i + 1].mark;
    std::vector<std::string> paths;  // every file some manifest up to Mi lists, first seen first
    for (size_t j = 0; j <= i; ++j)
      for (const auto& f : ms[j]->files)
        if (std::find(paths.begin(), paths.end(), f.path) == paths.end()) paths.push_back(f.path);
    for (const auto& path : paths) {
      const trace::FileExpectation* before = nullptr;
      for (size_t j = i + 1; j-- > 0;)
        if (covers(j, path)) {
          before = find(j, path);
          break;
        }
      if (!before) continue;
      for (size_t k = i + 1; k < marks.size(); ++k)
        if (covers(k, path)) {
          const trace::FileExpectation* after = find(k, path);
          if (after && same_promise(*before, *after)) r.stable_files.push_back(*before);
          break;
        }
    }
    std::optional<size_t> whole_before, whole_after;
    for (size_t j = 0; j <= i; ++j)
      if (!ms[j]->partial) whole_before = j;
    for (size_t k = i + 1; k < marks.size() && !whole_after; ++k)
      if (!ms[k]->partial) whole_after = k;
    if (whole_before && whole_after)
      for (const auto& d : ms[*whole_before]->dirs)
        if (std::find(ms[*whole_after]->dirs.begin(), ms[*whole_after]->dirs.end(), d) != ms[*whole_after]->dirs.end())
          r.stable_dirs.push_back(d);
    if (ms[i]->partial) {
      // The state at a partial mark: what the fsync promised, and every file and directory promised
      // before and not modified since (the stable ones). So the exact rule, and the files the class
      // key reads (classes::ReadFiles: the rule's manifest), keep those too.
      trace::Manifest exact;
      exact.partial = true;
      exact.files = ms[i]->files;
      for (const auto& f : r.stable_files)
        if (!find(i, f.path)) exact.files.push_back(f);
      exact.dirs = r.stable_dirs;
      r.manifest = std::move(exact);
    }
    plan.rules_.push_back(std::move(r));
  }
  plan.content_before_.resize(log.size() + 1);
  for (size_t i = 0; i < log.size(); ++i)
    plan.content_before_[i + 1] = plan.content_before_[i] + (log.entry(i).changes_content() ? 1 : 0);
  return plan;
}

DataPlan::Applies DataPlan::For(const DurableView& s) const {
  Applies a;
  size_t cp = s.crash_point();
  // The last manifest mark at or before the crash point.
  auto it = std::upper_bound(rules_.begin(), rules_.end(), cp,
                             [](size_t c, const DataRule& r) { return c < r.mark_entry; });
  if (it == rules_.begin()) return a;
  --it;
  a.rule = &*it;
  a.index = static_cast<size_t>(it - rules_.begin());
  // Exact: nothing up to the mark is missing, and every content entry after it (through the crash
  // point) is dropped. Dropped entries are content entries, so counting suffices.
  size_t m = it->mark_entry;
  const auto& dropped = s.dropped();
  size_t dropped_up_to_mark =
      static_cast<size_t>(std::upper_bound(dropped.begin(), dropped.end(), m) - dropped.begin());
  size_t dropped_after_mark = dropped.size() - dropped_up_to_mark;
  size_t content_after_mark = content_before_[cp + 1] - content_before_[m + 1];
  a.exact = dropped_up_to_mark == 0 && dropped_after_mark == content_after_mark;
  return a;
}

namespace {

const char* KindName(FileFacts::Kind k) {
  switch (k) {
    case FileFacts::Kind::kMissing: return "missing";
    case FileFacts::Kind::kRegular: return "a regular file";
    case FileFacts::Kind::kDirectory: return "a directory";
    case FileFacts::Kind::kOther: return "not a regular file";
  }
  return "?";
}

}  // namespace

Verdict CheckData(const std::string& image, const DataPlan::Applies& a) {
  Verdict v;
  v.oracle = Oracle::kData;
  if (!a.rule) {
    v.output = "no manifest mark at or before this crash point: nothing to check\n";
    return v;
  }
  const auto& files = a.exact ? a.rule->manifest.files : a.rule->stable_files;
  const auto& dirs = a.exact ? a.rule->manifest.dirs : a.rule->stable_dirs;
  std::string why = a.exact ? fmt::format("the state at mark '{}'", a.rule->mark)
                            : fmt::format("stable between marks '{}' and '{}'", a.rule->mark,
                                          a.rule->next_mark.value_or("?"));
  v.output = fmt::format("rule: {} ({} files, {} directories)\n", why, files.size(), dirs.size());
  if (files.empty() && dirs.empty()) return v;

  auto fs = Ext4Image::Open(image);
  if (!fs.ok()) {
    v.ok = false;
    v.detail = "cannot read the file system to check " + why + ": " + fs.status().message();
    v.output += v.detail + "\n";
    return v;
  }
  std::vector<std::string> bad;
  for (const auto& f : files) {
    FileFacts got = fs->Stat(f.path, true);
    std::string problem;
    if (got.kind != FileFacts::Kind::kRegular) {
      problem = fmt::format("{}: {}{}", f.path, KindName(got.kind),
                            got.error.empty() ? "" : " (" + got.error + ")");
    } else if (!got.error.empty()) {
      problem = fmt::format("{}: unreadable ({})", f.path, got.error);
    } else if (!f.Holds(got.size, got.md5)) {
      problem = fmt::format("{}: size {} md5 {}, expected size {} md5 {}", f.path, got.size, got.md5,
                            f.size, f.md5);
      for (const auto& [s, m] : f.alternatives) problem += fmt::format(" or size {} md5 {}", s, m);
    }
    if (!problem.empty()) bad.push_back(problem);
  }
  for (const auto& d : dirs) {
    FileFacts got = fs->Stat(d, false);
    if (got.kind != FileFacts::Kind::kDirectory)
      bad.push_back(fmt::format("{}/: {}, expected a directory", d, KindName(got.kind)));
  }
  for (const auto& b : bad) v.output += b + "\n";
  if (!bad.empty()) {
    v.ok = false;
    v.detail = fmt::format("{} of {} checked paths differ from {}: {}", bad.size(),
                           files.size() + dirs.size(), why, bad.front());
    if (bad.size() > 1) v.detail += fmt::format(" (and {} more)", bad.size() - 1);
  }
  return v;
}

}  // namespace torn::oracles
