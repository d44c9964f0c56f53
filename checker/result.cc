#include "checker/result.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "classes/unit_proof.h"
#include "oracles/durable.h"
#include "triage/signature.h"

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
  out.push_back("classes: " + classes::DescribeReduction(s));
  for (const auto& line : s.not_reduced) out.push_back("classes: not reduced: " + line);
  return out;
}

// --match on states loaded from the store, before their outputs are dropped: a member that reused its
// class's verdicts has the class owner's output (match.h).
void NoteStoredMatches(MatchFilter& match, const std::vector<store::StoredState>& stored) {
  std::map<uint64_t, const store::StoredState*> by_id;
  for (const auto& st : stored) by_id[st.state_id] = &st;
  for (const auto& st : stored) {
    for (const auto& v : st.verdicts) {
      const store::StoredVerdict* from = &v;
      auto owner = st.reused_from && v.oracle != "ordering" ? by_id.find(*st.reused_from) : by_id.end();
      if (owner != by_id.end())
        for (const auto& ov : owner->second->verdicts)
          if (ov.oracle == v.oracle) from = &ov;
      match.Note(st.state_id, v.oracle, v.ok, v.detail, from->output);
    }
  }
}

// What a violation found under a model beyond the block layer's contract means.
std::string BeyondContract(const models::SpaceOptions& space) {
  if (space.model == models::ModelKind::kReorder)
    return fmt::format("model reorder:{} is beyond the block layer's contract: each violation is possible under a "
                       "lower layer that reorders across {} flush{}, not an ext4 bug",
                       space.reorder, space.reorder, space.reorder == 1 ? "" : "es");
  if (space.model == models::ModelKind::kEpoch)
    return "model epoch over-approximates the block layer's contract (it may drop a FUA write that completed): each "
           "violation is possible under a device that loses completed FUA writes, not an ext4 bug";
  return "";
}

}  // namespace

CheckResult StartResult(const CheckOptions& o, const Setup& setup, const models::StateSpace& states,
                        const classes::Reducer* reducer) {
  CheckResult r;
  r.trace = o.trace;
  r.model = models::ModelLabel(setup.space.model, setup.space.reorder);
  r.beyond_contract = BeyondContract(setup.space);
  r.oracles = setup.oracles;
  models::Coverage cov = states.coverage();
  r.possible = cov.possible.str();
  r.generated = cov.generated;
  r.strategy = cov.strategy;
  r.from_mark = setup.from_mark;
  r.from_mark_default = setup.from_mark_default;
  r.notes = setup.notes;
  r.reduced = reducer != nullptr;
  if (reducer) {
    r.reductions = ReductionLines(reducer->summary());
    for (const auto& [segment, units] : reducer->summary().window_units)
      for (const auto& [kind, n] : units) r.window_units[segment][std::string(classes::UnitKindName(kind))] = n;
  }
  // A shard generates its share of the groups, in every window (a window's ids are consecutive).
  r.shard = o.shard.whole() ? "" : o.shard.str();
  r.generated = o.shard.Share(0, cov.generated);
  uint64_t first_id = 0;
  for (const models::Segment& seg : states.segments()) {
    r.windows.push_back({.segment = seg.index, .first = seg.first, .last = seg.last, .possible = seg.possible.str(),
                         .covered = "0", .fixed = seg.fixed, .generated = o.shard.Share(first_id, seg.generated)});
    first_id += seg.generated;
  }
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
                        {"fast_commit_replay", c.options->kernel_replays_fast_commits ? "kernel" : "e2fsck"},
                        {"dedupe", c.options->dedupe},
                        {"classes", c.reducer ? "torn class v1" : ""}};  // class_key.cc's key version
  // A shard is a run of its own (it resumes only itself); a whole check's key has no "shard", so it is
  // what torn merge gives the merged run (checker/shard.h, docs/scale.md).
  if (!c.options->shard.whole()) key["shard"] = c.options->shard.str();
  nlohmann::json options = key;
  options["trace"] = c.options->trace;
  TORN_ASSIGN_OR_RETURN(store::RunInfo run, db.BeginRun({c.options->trace, sha, s.log.size(), s.log.sectorsize()},
                                                        key.dump(), options.dump()));
  c.db = &db;
  c.run_id = result.run_id = run.id;
  TORN_ASSIGN_OR_RETURN(auto stored, db.LoadStates(run.id));
  if (c.match) NoteStoredMatches(*c.match, stored);
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
        if (oracle.ok() && *oracle != Oracle::kOrdering)
          cls->verdicts.push_back({*oracle, v.ok, v.detail, "", v.signature});
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
  result.distinct_images = c.distinct.load();
  result.reused_after_replay = c.replay_reused.load();
  Tally(c.results, c.lost_states.str(), c.lost_notes, result);
}

void Tally(std::vector<store::StoredState>& results, const std::string& lost_states, std::vector<std::string> lost_notes,
           CheckResult& result) {
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.state_id < b.state_id; });
  result.checked = results.size();
  // Judged: the classes whose verdicts came from the oracles. A state judged by the oracles is a
  // class's first member in its run; shards judge a class once each (checker/shard.h), so with classes
  // the count is of distinct keys, which is what one run of the whole check judges.
  std::set<std::string> keys, judged_keys;
  uint64_t judged = 0;
  models::BigCount covered = 0;
  for (const auto& s : results) {
    if (!s.class_key.empty()) keys.insert(s.class_key);
    if (!s.reused_from && !s.digest.empty()) {
      ++judged;
      judged_keys.insert(s.class_key);
    }
    covered += models::BigCount(s.covers);
  }
  result.classes = std::to_string(keys.size());
  result.judged = std::to_string(result.reduced ? judged_keys.size() : judged);
  result.covered = covered.str();
  if (lost_states != "0") {
    result.notes.push_back(fmt::format("classes: {} states not covered: class proofs that failed for too many "
                                       "writes at once (their states were judged alone)",
                                       lost_states));
    // In state order (workers finish groups in any order).
    auto state_of = [](const std::string& n) { return std::strtoull(n.c_str() + n.find(' ') + 1, nullptr, 10); };
    std::sort(lost_notes.begin(), lost_notes.end(),
              [&](const auto& a, const auto& b) { return state_of(a) < state_of(b); });
    // The first few: a bounded window that fails its proofs fails them for thousands of states,
    // which would bury the report (the database keeps every note: the run's plan, lost_notes).
    constexpr size_t kShown = 3;
    for (size_t i = 0; i < lost_notes.size() && i < kShown; ++i) result.notes.push_back("classes: " + lost_notes[i]);
    if (lost_notes.size() > kShown)
      result.notes.push_back(fmt::format("classes: ... and {} more states judged alone", lost_notes.size() - kShown));
  }

  // Per window: what its judged states stand for, their classes.
  std::map<size_t, std::pair<models::BigCount, std::set<std::string>>> per_window;
  std::map<size_t, uint64_t> checked_in;
  for (const auto& s : results) {
    auto& w = per_window[s.segment];
    w.first += models::BigCount(s.covers);
    if (!s.class_key.empty()) w.second.insert(s.class_key);
    ++checked_in[s.segment];
  }
  for (WindowCoverage& w : result.windows) {
    if (auto it = per_window.find(w.segment); it != per_window.end()) {
      w.covered = it->second.first.str();
      w.classes = it->second.second.size();
      w.checked = checked_in[w.segment];
    }
  }

  std::map<size_t, CrashPointGroup> groups;
  for (const auto& s : results) {
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
      viol.torn = StateFromStore(s).torn;
      viol.detail = v.detail;
      // A database from before signatures: the detail's (without the tool's output).
      viol.signature = !v.signature.empty() ? v.signature
                                            : triage::SignatureOf({viol.oracle, false, v.detail, "", ""});
      viol.covers = s.covers;
      if (result.reduced) viol.class_key = s.class_key;
      result.violations.push_back(viol);
      g.violations.push_back(viol);
    }
  }
  for (auto& [cp, g] : groups) result.groups.push_back(std::move(g));
}

}  // namespace torn::checker
