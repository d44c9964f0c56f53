// A check's result rebuilt from its database (result.h: PlanJson, ResultFromStore), for torn merge and
// reports of a --db file, without the trace.
//
// The rule: the result is a function of the run's plan (what it set out to check: model, oracles,
// coverage possible, windows, notes of the setup and the reduction) and its stored states; Tally turns
// the states into coverage and violations the same way for a run that just ended, a resumed one and a
// merged one, so they print the same. What the states cannot say is in the plan too: the states a
// failed class proof gave up (and why), the run's time, --verify-classes's count, lab VM boots.
//
// Plan JSON (store.h, runs.plan), version 1:
//   {"version": 1, "trace", "model", "points", "oracles": [..], "possible", "generated", "strategy",
//    "from_mark": name|null, "from_mark_default", "classes": bool, "reductions": [..],
//    "windows": [{"segment", "first", "last", "possible", "fixed", "generated"}], "notes": [..],
//    "shard": "K/N"|"", "lost_states": decimal, "lost_notes": [..], "seconds", "verified",
//    "mount_boots", "reused_after_replay"}
#include <fmt/core.h>

#include "checker/result.h"

namespace torn::checker {
namespace {

std::string PointsName(models::CrashPoints p) {
  switch (p) {
    case models::CrashPoints::kAll: return "all";
    case models::CrashPoints::kFlush: return "flush";
    case models::CrashPoints::kFua: return "fua";
    case models::CrashPoints::kMark: return "mark";
  }
  return "all";
}

}  // namespace

nlohmann::json PlanJson(const CheckResult& started, const CheckResult& finished, const Context& c) {
  nlohmann::json oracles = nlohmann::json::array();
  for (oracles::Oracle o : started.oracles) oracles.push_back(std::string(oracles::OracleName(o)));
  nlohmann::json windows = nlohmann::json::array();
  for (const WindowCoverage& w : started.windows)
    windows.push_back({{"segment", w.segment}, {"first", w.first}, {"last", w.last}, {"possible", w.possible},
                       {"fixed", w.fixed}, {"generated", w.generated}});
  return {{"version", 1},
          {"trace", started.trace},
          {"model", started.model},
          {"points", PointsName(c.options->space.points)},
          {"oracles", oracles},
          {"possible", started.possible},
          {"generated", started.generated},
          {"strategy", started.strategy},
          {"from_mark", started.from_mark ? nlohmann::json(*started.from_mark) : nlohmann::json(nullptr)},
          {"from_mark_default", started.from_mark_default},
          {"classes", started.reduced},
          {"reductions", started.reductions},
          {"windows", windows},
          {"notes", started.notes},
          {"shard", started.shard},
          {"lost_states", c.lost_states.str()},  // the workers are done: no lock needed
          {"lost_notes", c.lost_notes},
          {"seconds", finished.seconds},
          {"verified", finished.verified},
          {"mount_boots", finished.mount_boots},
          {"reused_after_replay", finished.reused_after_replay}};
}

models::CrashState StateFromStore(const store::StoredState& s) {
  models::CrashState st;
  st.id = s.state_id;
  st.segment = s.segment;
  st.crash_point = st.first_crash_point = s.crash_point;
  st.base_end = s.base_end;
  st.dropped.assign(s.dropped.begin(), s.dropped.end());
  auto torn = nlohmann::json::parse(s.torn_json, nullptr, false);
  if (torn.is_array())
    for (const auto& t : torn) st.torn.push_back({t["entry"].get<size_t>(), t["sectors"].get<std::vector<uint32_t>>()});
  return st;
}

Result<CheckResult> ResultFromStore(store::Store& db, const store::StoredRun& run) {
  auto where = [&] { return fmt::format("{}: run {}", db.path(), run.id); };
  if (!run.finished) return BadInput(where() + " did not finish: run its torn check again to resume it");
  if (run.plan.empty())
    return BadInput(where() + " has no plan (stored by a torn from before torn merge): run its check again");
  nlohmann::json p = nlohmann::json::parse(run.plan, nullptr, false);
  if (!p.is_object() || p.value("version", 0) != 1) return BadInput(where() + ": its plan is not torn's (version 1)");
  CheckResult r;
  try {
    r.trace = p.at("trace").get<std::string>();
    r.model = p.at("model").get<std::string>();
    r.points = p.at("points").get<std::string>();
    for (const auto& name : p.at("oracles")) {
      TORN_ASSIGN_OR_RETURN(oracles::Oracle o, oracles::ParseOracle(name.get<std::string>()));
      r.oracles.push_back(o);
    }
    r.possible = p.at("possible").get<std::string>();
    r.generated = p.at("generated").get<uint64_t>();
    r.strategy = p.at("strategy").get<std::string>();
    if (p.at("from_mark").is_string()) r.from_mark = p.at("from_mark").get<std::string>();
    r.from_mark_default = p.at("from_mark_default").get<bool>();
    r.reduced = p.at("classes").get<bool>();
    r.reductions = p.at("reductions").get<std::vector<std::string>>();
    for (const auto& w : p.at("windows"))
      r.windows.push_back({.segment = w.at("segment").get<size_t>(),
                           .first = w.at("first").get<size_t>(),
                           .last = w.at("last").get<size_t>(),
                           .possible = w.at("possible").get<std::string>(),
                           .covered = "0",
                           .fixed = w.at("fixed").get<uint64_t>(),
                           .generated = w.at("generated").get<uint64_t>()});
    r.notes = p.at("notes").get<std::vector<std::string>>();
    r.shard = p.at("shard").get<std::string>();
    r.seconds = p.at("seconds").get<double>();
    r.verified = p.at("verified").get<uint64_t>();
    r.mount_boots = p.at("mount_boots").get<uint64_t>();
    r.reused_after_replay = p.at("reused_after_replay").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return BadInput(fmt::format("{}: its plan is damaged: {}", where(), e.what()));
  }
  TORN_ASSIGN_OR_RETURN(std::vector<store::StoredState> states, db.LoadStates(run.id, /*outputs=*/false));
  for (const auto& s : states) r.distinct_images += !s.reused_from && !s.digest.empty();
  r.run_id = run.id;
  Tally(states, p.value("lost_states", "0"), p.value("lost_notes", std::vector<std::string>{}), r);
  return r;
}

}  // namespace torn::checker
