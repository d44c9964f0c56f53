#include "checker/result.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "oracles/durable.h"

namespace torn::checker {
namespace {

using oracles::Oracle;

Result<std::string> LogSha256(const trace::Log& log, const nlohmann::json& description) {
  if (description.contains("log_sha256") && description["log_sha256"].is_string())
    return description["log_sha256"].get<std::string>();
  return HashFdHex(HashAlgo::kSha256, log.fd(), log.file_bytes());
}

// The reduction's lines for the reports: how many windows, how many writes fixed by which rule.
std::vector<std::string> ReductionLines(const classes::ReductionSummary& s) {
  std::vector<std::string> out;
  if (s.windows == 0) {
    out.push_back("classes: no window reduced (the model lists prefixes or tears writes): states share "
                  "verdicts by class key");
    return out;
  }
  uint64_t fixed = 0, free = 0;
  std::string by_rule;
  for (const auto& [kind, n] : s.units) {
    if (kind == classes::UnitKind::kFree) {
      free += n;
      continue;
    }
    fixed += n;
    by_rule += fmt::format("{}{} {}", by_rule.empty() ? "" : ", ", n, classes::UnitKindName(kind));
  }
  out.push_back(fmt::format("classes: {} of {} windows reduced; {} writes fixed ({}), {} left free",
                            s.reduced_windows, s.windows, fixed, by_rule.empty() ? "none" : by_rule, free));
  for (const auto& line : s.not_reduced) out.push_back("classes: not reduced: " + line);
  return out;
}

}  // namespace

CheckResult StartResult(const CheckOptions& o, const Setup& setup, const models::StateSpace& states,
                        const classes::Reducer* reducer) {
  CheckResult r;
  r.trace = o.trace;
  r.model = std::string(models::ModelName(setup.space.model));
  r.oracles = setup.oracles;
  models::Coverage cov = states.coverage();
  r.possible = cov.possible.str();
  r.generated = cov.generated;
  r.strategy = cov.strategy;
  r.from_mark = setup.from_mark;
  r.from_mark_default = setup.from_mark_default;
  r.notes = setup.notes;
  r.reduced = reducer != nullptr;
  if (reducer) r.reductions = ReductionLines(reducer->summary());
  return r;
}

Status Resume(Context& c, store::Store& db, CheckResult& result, std::set<uint64_t>& done) {
  const Setup& s = *c.setup;
  const models::SpaceOptions& space = s.space;
  TORN_ASSIGN_OR_RETURN(std::string sha, LogSha256(s.log, s.description));
  std::vector<std::string> oracle_names;
  for (Oracle x : s.oracles) oracle_names.emplace_back(oracles::OracleName(x));
  nlohmann::json key = {{"log_sha256", sha},
                        {"model", result.model},
                        {"points", int(space.points)},
                        {"from_entry", space.from_entry ? int64_t(*space.from_entry) : -1},
                        {"max_states", space.max_states},
                        {"seed", space.seed},
                        {"oracles", oracle_names},
                        {"expect", s.expect_path},
                        {"digest", "models::ImageDigest"},  // stored digests are this function's
                        {"host_mount", c.options->host_mount},
                        {"dedupe", c.options->dedupe},
                        {"classes", c.reducer ? "torn class v1" : ""}};  // class_key.cc's key version
  nlohmann::json options = key;
  options["trace"] = c.options->trace;
  TORN_ASSIGN_OR_RETURN(store::RunInfo run, db.BeginRun({c.options->trace, sha, s.log.size(), s.log.sectorsize()},
                                                        key.dump(), options.dump()));
  c.db = &db;
  c.run_id = result.run_id = run.id;
  TORN_ASSIGN_OR_RETURN(auto stored, db.LoadStates(run.id));
  double covered = 0;
  for (auto& st : stored) {
    done.insert(st.state_id & ((uint64_t{1} << kMemberShift) - 1));
    // Image verdicts of the classes judged before seed the reuse map (without classes, images
    // judged before: their key is the raw image's, from the digest and the data rule).
    std::optional<classes::ClassKey> key = classes::ClassKey::FromHex(st.class_key);
    if (!c.reducer && !st.digest.empty()) {
      models::CrashState cs;
      cs.crash_point = st.crash_point;
      cs.base_end = st.base_end;
      cs.dropped.assign(st.dropped.begin(), st.dropped.end());
      int dkey = s.data ? s.data->For(oracles::DurableView(cs)).key() : 0;
      key = classes::RawKey(std::stoull(st.digest, nullptr, 16), dkey);
    }
    if (s.WantsImage() && !st.reused_from && key) {
      auto cls = std::make_shared<ClassVerdicts>();
      cls->done = true;
      cls->owner = st.state_id;
      for (const auto& v : st.verdicts) {
        auto oracle = oracles::ParseOracle(v.oracle);
        if (oracle.ok() && *oracle != Oracle::kOrdering) cls->verdicts.push_back({*oracle, v.ok, v.detail, ""});
      }
      c.by_class[*key] = cls;
    }
    for (auto& v : st.verdicts) v.output.clear();
    if (std::any_of(st.verdicts.begin(), st.verdicts.end(), [](const auto& v) { return !v.ok; })) ++c.violating;
    covered += std::stod(st.covers);
    c.results.push_back(std::move(st));
  }
  result.resumed = c.results.size();
  c.checked = c.results.size();
  c.groups_done = done.size();
  c.covered = covered;
  return Status::Ok();
}

void FinishResult(Context& c, CheckResult& result) {
  std::sort(c.results.begin(), c.results.end(), [](const auto& a, const auto& b) { return a.state_id < b.state_id; });
  result.checked = c.results.size();
  result.distinct_images = c.distinct.load();
  result.reused_after_replay = c.replay_reused.load();
  std::set<std::string> keys;
  uint64_t judged = 0;
  models::BigCount covered = 0;
  for (const auto& s : c.results) {
    if (!s.class_key.empty()) keys.insert(s.class_key);
    judged += !s.reused_from && !s.digest.empty();
    covered += models::BigCount(s.covers);
  }
  result.classes = std::to_string(keys.size());
  result.judged = std::to_string(judged);
  result.covered = covered.str();
  if (c.lost_states > 0) {
    result.notes.push_back(fmt::format("classes: {} states not covered: class proofs that failed for too many "
                                       "writes at once (their states were judged alone)",
                                       c.lost_states.str()));
    for (const auto& n : c.lost_notes) result.notes.push_back("classes: " + n);
  }

  // Per window: what it allows, what its judged states stand for, their classes.
  std::map<size_t, std::pair<models::BigCount, std::set<std::string>>> per_window;
  std::map<size_t, uint64_t> checked_in;
  for (const auto& s : c.results) {
    auto& w = per_window[s.segment];
    w.first += models::BigCount(s.covers);
    if (!s.class_key.empty()) w.second.insert(s.class_key);
    ++checked_in[s.segment];
  }
  for (const models::Segment& seg : c.states->segments()) {
    WindowCoverage w{.segment = seg.index, .first = seg.first, .last = seg.last, .possible = seg.possible.str(),
                     .covered = "0", .fixed = seg.fixed, .generated = seg.generated};
    if (auto it = per_window.find(seg.index); it != per_window.end()) {
      w.covered = it->second.first.str();
      w.classes = it->second.second.size();
      w.checked = checked_in[seg.index];
    }
    result.windows.push_back(std::move(w));
  }

  std::map<size_t, CrashPointGroup> groups;
  for (const auto& s : c.results) {
    auto& g = groups[s.crash_point];
    g.crash_point = s.crash_point;
    ++g.states;
    for (const auto& v : s.verdicts) {
      if (v.ok) continue;
      Violation viol;
      viol.id = result.violations.size() + 1;
      viol.state = s.state_id;
      viol.oracle = oracles::ParseOracle(v.oracle).value();
      viol.crash_point = s.crash_point;
      viol.dropped.assign(s.dropped.begin(), s.dropped.end());
      auto torn = nlohmann::json::parse(s.torn_json, nullptr, false);
      if (torn.is_array())
        for (const auto& t : torn)
          viol.torn.push_back({t["entry"].get<size_t>(), t["sectors"].get<std::vector<uint32_t>>()});
      viol.detail = v.detail;
      viol.covers = s.covers;
      if (result.reduced) viol.class_key = s.class_key;
      result.violations.push_back(viol);
      g.violations.push_back(viol);
    }
  }
  for (auto& [cp, g] : groups) result.groups.push_back(std::move(g));
}

}  // namespace torn::checker
