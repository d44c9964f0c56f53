#include "triage/triage.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "report/report.h"
#include "report/summary.h"
#include "store/triage_store.h"

namespace torn::triage {
namespace {

using Clock = std::chrono::steady_clock;

size_t LostCount(const checker::Violation& v) {
  size_t n = v.dropped.size();
  for (const auto& t : v.torn) n += 1 + t.sectors.size();  // a rough measure: torn writes cost more
  return n;
}

nlohmann::json TornJson(const std::vector<models::TornWrite>& torn) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : torn) j.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
  return j;
}

}  // namespace

Failure FailureOf(const checker::Violation& v) {
  Failure f;
  f.oracle = v.oracle;
  f.signature = v.signature;
  models::CrashState& s = f.state;
  s.id = v.state;
  s.crash_point = s.first_crash_point = v.crash_point;
  s.dropped = v.dropped;
  std::sort(s.dropped.begin(), s.dropped.end());
  s.torn = v.torn;
  // Everything before the first entry it lost is durable: the same durable set as the check's base,
  // and a small window for the materializer.
  s.base_end = v.crash_point + 1;
  if (!s.dropped.empty()) s.base_end = std::min(s.base_end, s.dropped.front());
  for (const auto& t : s.torn) s.base_end = std::min(s.base_end, t.entry);
  return f;
}

std::vector<SignatureGroup> GroupBySignature(const checker::CheckResult& r) {
  struct Acc {
    SignatureGroup g;
    models::BigCount covered = 0;
    std::set<std::string> classes;
    std::set<size_t> crash_points;
  };
  std::map<std::pair<oracles::Oracle, std::string>, Acc> by;
  for (const checker::Violation& v : r.violations) {
    Acc& a = by[{v.oracle, v.signature}];
    if (a.g.states == 0 || LostCount(v) < LostCount(a.g.representative)) a.g.representative = v;
    a.g.oracle = v.oracle;
    a.g.signature = v.signature;
    ++a.g.states;
    a.covered += models::BigCount(v.covers);
    if (!v.class_key.empty()) a.classes.insert(v.class_key);
    a.crash_points.insert(v.crash_point);
  }
  std::vector<SignatureGroup> out;
  for (auto& [key, a] : by) {
    a.g.covered = a.covered.str();
    a.g.classes = a.classes.size();
    a.g.crash_points = a.crash_points.size();
    out.push_back(std::move(a.g));
  }
  std::stable_sort(out.begin(), out.end(), [](const SignatureGroup& a, const SignatureGroup& b) {
    if (a.states != b.states) return a.states > b.states;
    return models::BigCount(a.covered) > models::BigCount(b.covered);
  });
  for (size_t i = 0; i < out.size(); ++i) out[i].id = i + 1;
  return out;
}

Triage GroupOnly(const checker::CheckResult& r) {
  Triage t;
  t.groups = GroupBySignature(r);
  std::set<uint64_t> failing;
  for (const auto& v : r.violations) failing.insert(v.state);
  t.failing_states = failing.size();
  return t;
}

nlohmann::json MinimizedToJson(const Failure& f, const Minimized& m, const std::vector<WriteExplanation>& explanation,
                               const std::string& reproduce) {
  nlohmann::json entries = nlohmann::json::array(), sectors = nlohmann::json::array();
  for (const Lost& l : m.minimal) {
    if (l.sector) sectors.push_back({{"entry", l.entry}, {"sector", *l.sector}});
    else entries.push_back(l.entry);
  }
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& w : explanation) ex.push_back(ToJson(w));
  return {{"state", f.state.id},
          {"oracle", std::string(oracles::OracleName(f.oracle))},
          {"signature", f.signature},
          {"crash_point", f.state.crash_point},
          {"lost", m.lost},
          {"minimal", entries},
          {"minimal_sectors", sectors},
          {"dropped", m.state.dropped},
          {"torn", TornJson(m.state.torn)},
          {"reproduced", m.reproduced},
          {"one_minimal", m.one_minimal},
          {"budget_cut", m.budget_cut},
          {"put_back", m.put_back},
          {"detail", m.detail},
          {"tests", m.tests},
          {"cache_hits", m.cache_hits},
          {"judged", m.judged},
          {"e2fsck_runs", m.e2fsck_runs},
          {"boots", m.boots},
          {"seconds", m.seconds},
          {"reproduce", reproduce},
          {"explanation", ex}};
}

Result<Triage> RunTriage(const checker::CheckResult& r, const checker::Setup& setup, const TriageOptions& o) {
  const auto start = Clock::now();
  Triage t;
  t.groups = GroupBySignature(r);
  std::set<uint64_t> failing;
  for (const auto& v : r.violations) failing.insert(v.state);
  t.failing_states = failing.size();

  std::optional<store::TriageStore> db;
  if (!o.db.empty() && o.run_id) {
    TORN_ASSIGN_OR_RETURN(store::TriageStore s, store::TriageStore::Open(o.db));
    db.emplace(std::move(s));
  }
  std::map<oracles::Oracle, std::unique_ptr<Rejudge>> judges;  // one per oracle: its cache is shared
  const auto deadline = start + o.time_budget;
  for (size_t i = 0; i < t.groups.size() && i < o.minimize; ++i) {
    SignatureGroup& g = t.groups[i];
    const std::string oracle(oracles::OracleName(g.oracle));
    if (db) {
      TORN_ASSIGN_OR_RETURN(auto stored, db->LoadMinimized(o.run_id, oracle, g.signature, g.representative.state));
      if (stored) {
        auto j = nlohmann::json::parse(stored->result_json, nullptr, false);
        if (!j.is_discarded()) {
          g.minimization = std::move(j);
          ++t.minimized;
          continue;
        }
      }
    }
    if (Clock::now() >= deadline) {
      t.budget_cut = true;
      g.note = "not minimized: the time budget was spent (--minimize-time)";
      continue;
    }
    auto& judge = judges[g.oracle];
    if (!judge) {
      RejudgeOptions ro = o.judge;
      ro.oracle = g.oracle;
      auto created = Rejudge::Create(setup, ro);
      if (!created.ok()) {
        g.note = "not minimized: " + created.status().message();
        continue;
      }
      judge = std::move(created).value();
    }
    Failure f = FailureOf(g.representative);
    if (o.on_progress)
      o.on_progress(fmt::format("minimizing #{} ({} on state {}, {} writes lost)", g.id, oracle, f.state.id,
                                LostElements(setup.log, f.state).size()));
    auto m = Minimize(*judge, f, {.max_tests = o.max_tests, .deadline = deadline});
    if (!m.ok()) {
      if (m.status().code() == Code::kInterrupted) return m.status();
      g.note = "not minimized: " + m.status().message();
      continue;
    }
    std::vector<WriteExplanation> explanation;
    if (m->reproduced) {
      auto ex = Explain(*judge, *m);
      if (!ex.ok()) g.note = "not explained: " + ex.status().message();
      else explanation = std::move(ex).value();
    }
    checker::Violation minimal = g.representative;
    minimal.dropped = m->state.dropped;
    minimal.torn = m->state.torn;
    std::string reproduce = report::ReproduceCommand(o.trace_arg.empty() ? r.trace : o.trace_arg, o.image_bytes, minimal);
    g.minimization = MinimizedToJson(f, *m, explanation, reproduce);
    if (!m->reproduced) (*g.minimization)["note"] = "the state did not fail the same way when judged again";
    ++t.minimized;
    if (db) {
      TORN_RETURN_IF_ERROR(db->SaveMinimized(o.run_id, {oracle, g.signature, f.state.id, g.minimization->dump(),
                                                         m->seconds}));
    }
  }
  if (db) {
    std::vector<store::StoredSignature> rows;
    for (const auto& g : t.groups)
      rows.push_back({g.id, std::string(oracles::OracleName(g.oracle)), g.signature, g.representative.detail, g.states,
                      g.covered, g.classes, g.representative.state});
    TORN_RETURN_IF_ERROR(db->SaveSignatures(o.run_id, rows));
  }
  t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

nlohmann::json ToJson(const Triage& t) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : t.groups) {
    const checker::Violation& v = g.representative;
    nlohmann::json j = {{"id", g.id},
                        {"oracle", std::string(oracles::OracleName(g.oracle))},
                        {"signature", g.signature},
                        {"detail", v.detail},
                        {"states", g.states},
                        {"covered", report::CountJson(g.covered)},
                        {"classes", g.classes},
                        {"crash_points", g.crash_points},
                        {"representative",
                         {{"state", v.state}, {"crash_point", v.crash_point}, {"dropped", v.dropped}, {"torn", TornJson(v.torn)}}},
                        {"minimal", nullptr},
                        {"minimization", nullptr},
                        {"explanation", nlohmann::json::array()}};
    if (g.minimization) {
      j["minimal"] = (*g.minimization)["minimal"];
      j["explanation"] = (*g.minimization)["explanation"];
      j["minimization"] = *g.minimization;
      j["minimization"].erase("explanation");
    }
    if (!g.note.empty()) j["note"] = g.note;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace torn::triage
