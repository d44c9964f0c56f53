// torn explain TRACE --state ID [--db FILE [--run N]] [--oracle O] [--json] [--max-tests N] [--time S]
//   [--model M] [--budget N] [--seed S] [--from-mark NAME | --all-points] [--expect FILE] [--no-classes]
// torn explain TRACE --to-entry N [--drop LIST] [--torn ENTRY:SECTORS]... [--oracle O] [--json]
//
// One failing crash state: its signature for each oracle it fails, the 1-minimal set of lost writes
// that still fails that way (triage/minimize.h), what each of those writes is and when it was logged
// (triage/explain.h), and the torn replay command that rebuilds the minimal state.
// The state comes from the database of a torn check run (--db: its crash point, lost writes and
// verdicts as stored; a minimization stored there is reused, a new one stored), or is enumerated again
// with the check's options (the same --model/--budget/--seed/--from-mark give the same state ids), or
// is given by hand (--to-entry/--drop/--torn, as torn replay takes them). Without --db the state is
// judged again by every oracle that applies.
// Exit 0: explained (or nothing fails: said so); 2: bad input (no such state, naming it), usage;
// 130: interrupted.
#include <sys/stat.h>

#include <fmt/core.h>

#include "base/hash.h"
#include "checker/result.h"
#include "checker/run_context.h"
#include "checker/setup.h"
#include "classes/members.h"
#include "classes/reducer.h"
#include "cli/command.h"
#include "ext4/image_view.h"
#include "models/rule.h"
#include "oracles/durable.h"
#include "replayer/replay.h"
#include "report/summary.h"
#include "store/store.h"
#include "store/triage_store.h"
#include "trace/trace_dir.h"
#include "triage/signature.h"
#include "triage/text.h"
#include "triage/triage.h"

namespace torn::cli {
namespace {

using oracles::Oracle;

struct Failing {
  Oracle oracle;
  std::string signature, detail;
};


// The state `id` of a check enumerated again with the same options (run.cc's enumeration and
// group.cc's members): the group id & (2^40-1), then its k-th member (id >> 40).
Result<std::optional<models::CrashState>> Enumerate(const checker::Setup& setup, bool classes, const std::string& scratch,
                                                    uint64_t id) {
  std::unique_ptr<classes::Reducer> reducer;
  models::SpaceOptions space = setup.space;
  space.digests = false;
  const models::Rule& rule = models::RuleFor(space.model);
  bool reduces = classes && setup.WantsImage() && !rule.sector_units && rule.window == models::WindowKind::kSubsets;
  if (reduces) {
    TORN_ASSIGN_OR_RETURN(reducer, classes::Reducer::Create(setup.log, {.image_bytes = setup.image_bytes,
                                                                       .scratch_dir = scratch,
                                                                       .data = setup.data ? &*setup.data : nullptr,
                                                                       .ordering = setup.ordering ? &*setup.ordering : nullptr}));
    space.fix_units = reducer->Callback();
  }
  TORN_ASSIGN_OR_RETURN(models::StateSpace states, models::StateSpace::Build(setup.log, space));
  const uint64_t group_id = id & ((uint64_t{1} << checker::kMemberShift) - 1);
  const size_t member = id >> checker::kMemberShift;
  std::optional<models::CrashState> group;
  const Status found(Code::kTimeout, "found");
  Status st = states.ForEach([&](const models::CrashState& s) -> Status {
    if (s.id != group_id) return Status::Ok();
    group = s;
    return found;
  });
  if (!st.ok() && st.message() != found.message()) return st;
  if (!group) return std::optional<models::CrashState>();
  if (!reducer) return member == 0 ? group : std::optional<models::CrashState>();
  // The members as group.cc numbers them: the ones kept, in order (a split member is not numbered).
  std::vector<const oracles::DataPlan*> plans;
  if (setup.data) plans.push_back(&*setup.data);
  classes::GroupMembers members(states, *group, std::move(plans), reducer->facts(group->segment));
  TORN_ASSIGN_OR_RETURN(checker::StateImage image, checker::StateImage::Create(setup.log, setup.image_bytes, scratch));
  size_t k = 0;
  while (std::optional<classes::Member> m = members.Next()) {
    TORN_RETURN_IF_ERROR(image.MoveTo(m->state, &states.segments()[m->state.segment]));
    oracles::DataPlan::Applies applies;
    if (setup.data) applies = setup.data->For(oracles::DurableView(m->state));
    ext4::ImageView view(image.fd(), image.bytes());
    classes::KeyOptions ko{.read_files = classes::ReadFiles(setup.data ? &*setup.data : nullptr, m->state.crash_point, {}),
                           .data_key = applies.key(),
                           .raw_digest = image.digest()};
    TORN_ASSIGN_OR_RETURN(classes::Analysis a, classes::Analyze(view, ko));
    if (members.Prove(*m, a).outcome == classes::Reproof::Outcome::kSplit) continue;
    if (k++ == member) {
      models::CrashState s = m->state;
      s.id = id;
      return std::optional<models::CrashState>(s);
    }
  }
  return std::optional<models::CrashState>();
}

Result<std::string> LogSha256(const checker::Setup& setup) {
  if (setup.description.contains("log_sha256") && setup.description["log_sha256"].is_string())
    return setup.description["log_sha256"].get<std::string>();
  return HashFdHex(HashAlgo::kSha256, setup.log.fd(), setup.log.file_bytes());
}

}  // namespace

int RunExplain(std::vector<std::string> args) {
  CLI::App app{
      "Explain one failing crash state: for each oracle it fails, its signature (what failed, without\n"
      "this state's numbers), the 1-minimal set of its lost writes that still fails the same way\n"
      "(delta debugging: putting back any one of them makes the failure go away or change), what each\n"
      "of those writes is in the file system (blocks, their roles, inodes and paths, jbd2 transaction)\n"
      "and when it was logged (mark, barrier window, commits), and a torn replay command that rebuilds\n"
      "the minimal state. The state: --state ID from a torn check run's --db (or enumerated again with\n"
      "the check's own options), or one given by hand with --to-entry/--drop/--torn (docs/triage.md).",
      "torn explain"};
  std::string trace, db, oracle_name, model = "fua-barrier", budget, from_mark, expect, drop, scratch = "/dev/shm";
  std::vector<std::string> torn;
  std::optional<uint64_t> state_id, to_entry;
  std::optional<int64_t> run;
  uint64_t max_tests = 2000;
  double seconds = 300, fsck_timeout = 60;
  bool json = false, all_points = false, no_classes = false, host_mount = false;
  models::SpaceOptions space;
  app.add_option("TRACE", trace, "trace directory or log file")->required();
  auto* st = app.add_option("--state", state_id, "the state's id, as torn check reports it");
  auto* te = app.add_option("--to-entry", to_entry, "a state by hand: its crash point (with --drop, --torn)");
  st->excludes(te);
  app.add_option("--drop", drop, "with --to-entry: entries lost, e.g. 98,99,120-125");
  app.add_option("--torn", torn, "with --to-entry: ENTRY:SECTORS, the sectors of a torn write that landed")
      ->allow_extra_args(false);
  app.add_option("--db", db, "the database of the torn check run that judged the state");
  app.add_option("--run", run, "with --db: that run (default: the latest run of this trace holding the state)");
  app.add_option("--oracle", oracle_name, "explain this oracle's failure only (default: every oracle the state fails)");
  app.add_flag("--json", json, "print the result as JSON");
  app.add_option("--max-tests", max_tests, "states judged per minimization at most (default 2000)");
  app.add_option("--time", seconds, "seconds for the minimizations (default 300)");
  app.add_option("--model", model, "without --db: the check's model (default fua-barrier)");
  app.add_option("--budget", budget, "without --db: the check's --budget in states");
  app.add_option("--seed", space.seed, "without --db: the check's --seed");
  app.add_option("--from-mark", from_mark, "without --db: the check's --from-mark");
  app.add_flag("--all-points", all_points, "without --db: the check's --all-points");
  app.add_option("--expect", expect, "the manifests (default: the trace directory's)");
  app.add_flag("--no-classes", no_classes, "without --db: the check ran with --no-classes");
  app.add_flag("--host-mount", host_mount,
               "the mount oracle on this machine's kernel (root; a corrupt image can crash it) instead of the lab VM");
  std::string fc_replay = "kernel";
  app.add_option("--fast-commit-replay", fc_replay,
                 "fsck and data on a fast_commit file system: after the kernel's journal replay (default) "
                 "or e2fsck's, as the check ran")
      ->check(CLI::IsMember({"kernel", "e2fsck"}));
  app.add_option("--scratch", scratch, "directory for state images (default /dev/shm)");
  app.add_option("--fsck-timeout", fsck_timeout, "seconds per e2fsck run (default 60)");
  app.footer(
      "\nExamples:\n"
      "  torn check corpus/ext4-nobarrier --budget 1000 --db nb.db; torn explain corpus/ext4-nobarrier --state 19 --db nb.db\n"
      "  torn explain corpus/ext4-nobarrier --state 19 --budget 1000     # the same state, enumerated again\n"
      "  torn explain corpus/ext4-nobarrier --to-entry 178 --drop 98-115,117-177 --oracle fsck");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;
  if (!state_id && !to_entry) return ReportError(BadInput("give --state ID or --to-entry N (torn explain --help)"));
  if (to_entry && !db.empty()) return ReportError(BadInput("--db goes with --state, not with --to-entry"));
  if (state_id && (!drop.empty() || !torn.empty())) return ReportError(BadInput("--drop and --torn go with --to-entry"));
  std::optional<Oracle> only;
  if (!oracle_name.empty()) {
    auto o = oracles::ParseOracle(oracle_name);
    if (!o.ok()) return ReportError(o.status());
    only = *o;
  }
  if (!db.empty()) {
    struct stat sb;
    if (::stat(db.c_str(), &sb) != 0) return ReportError(BadInput(db + ": no such database"));
  }
  auto parsed_model = models::ParseModel(model);
  if (!parsed_model.ok()) return ReportError(parsed_model.status());
  space.model = *parsed_model;
  if (!budget.empty()) {
    if (budget.find_first_not_of("0123456789") != std::string::npos || budget == "0")
      return ReportError(BadInput("--budget '" + budget + "': give a number of states"));
    space.max_states = std::stoull(budget);
  }
  std::vector<Oracle> wanted = {Oracle::kFsck, Oracle::kData, Oracle::kOrdering};
  if (only && *only == Oracle::kMount) wanted.push_back(Oracle::kMount);
  auto setup = checker::Prepare({.trace = trace,
                                 .space = space,
                                 .from_mark = from_mark.empty() ? std::nullopt : std::optional(from_mark),
                                 .default_from_mark = !all_points && from_mark.empty(),
                                 .expect = expect.empty() ? std::nullopt : std::optional(expect),
                                 .oracles = wanted,
                                 .oracles_explicit = false});
  if (!setup.ok()) return ReportError(setup.status());

  // The state, and what it fails.
  models::CrashState state;
  std::vector<Failing> failing;
  std::optional<store::TriageStore> tstore;
  int64_t run_id = 0;
  bool judge_again = true;
  if (!db.empty()) {
    auto ts = store::TriageStore::Open(db);
    if (!ts.ok()) return ReportError(ts.status());
    tstore.emplace(std::move(ts).value());
    if (run) {
      run_id = *run;
    } else {
      auto sha = LogSha256(*setup);
      if (!sha.ok()) return ReportError(sha.status());
      auto found = tstore->FindRun(*sha, *state_id);
      if (!found.ok()) return ReportError(found.status());
      if (!*found)
        return ReportError(BadInput(fmt::format("{}: no run of {} holds state {} (torn check --db stores them)", db,
                                                trace, *state_id)));
      run_id = **found;
    }
    auto s = store::Store::Open(db);
    if (!s.ok()) return ReportError(s.status());
    auto states = s->LoadStates(run_id, false);
    if (!states.ok()) return ReportError(states.status());
    auto it = std::find_if(states->begin(), states->end(), [&](const auto& x) { return x.state_id == *state_id; });
    if (it == states->end())
      return ReportError(BadInput(fmt::format("{}: run {} has no state {}", db, run_id, *state_id)));
    state = checker::StateFromStore(*it);
    for (const auto& v : it->verdicts) {
      auto o = oracles::ParseOracle(v.oracle);
      if (v.ok || !o.ok() || (only && *o != *only)) continue;
      std::string sig = !v.signature.empty() ? v.signature : triage::SignatureOf({*o, false, v.detail, "", ""});
      failing.push_back({*o, sig, v.detail});
    }
    judge_again = false;
  } else if (state_id) {
    auto found = Enumerate(*setup, !no_classes, scratch, *state_id);
    if (!found.ok()) return ReportError(found.status());
    if (!*found)
      return ReportError(BadInput(fmt::format("{}: no state {} with these options (--model, --budget, --seed, "
                                              "--from-mark as the check had them; or --db)", trace, *state_id)));
    state = **found;
  } else {
    if (*to_entry >= setup->log.size())
      return ReportError(BadInput(fmt::format("{}: --to-entry {}: the trace has {} entries", trace, *to_entry,
                                              setup->log.size())));
    state.crash_point = state.first_crash_point = *to_entry;
    if (!drop.empty()) {
      auto list = replay::ParseIndexList(drop, *to_entry, fmt::format("--drop (the crash point is entry {})", *to_entry));
      if (!list.ok()) return ReportError(list.status().with_context(trace));
      state.dropped = std::move(list).value();
    }
    for (const auto& spec : torn) {
      auto w = replay::ParseTornWrite(setup->log, spec, *to_entry);
      if (!w.ok()) return ReportError(w.status().with_context(trace));
      state.torn.push_back(std::move(w).value());
    }
  }

  triage::RejudgeOptions ro;
  ro.fsck.timeout = std::chrono::milliseconds(static_cast<int64_t>(fsck_timeout * 1000));
  ro.scratch_dir = scratch;
  ro.host_mount = host_mount;
  ro.kernel_replays_fast_commits = fc_replay == "kernel";
  checker::Violation as_violation;
  as_violation.state = state.id;
  as_violation.crash_point = state.crash_point;
  as_violation.dropped = state.dropped;
  as_violation.torn = state.torn;
  triage::Failure base = triage::FailureOf(as_violation);  // the state with a small window
  std::map<Oracle, std::unique_ptr<triage::Rejudge>> judges;
  auto judge_for = [&](Oracle o) -> Result<triage::Rejudge*> {
    auto& j = judges[o];
    if (!j) {
      triage::RejudgeOptions r = ro;
      r.oracle = o;
      TORN_ASSIGN_OR_RETURN(j, triage::Rejudge::Create(*setup, r));
    }
    return j.get();
  };
  if (judge_again) {
    for (Oracle o : setup->oracles) {
      if (only && o != *only) continue;
      if (o == Oracle::kData && !setup->data) continue;
      auto j = judge_for(o);
      if (!j.ok()) return ReportError(j.status());
      auto v = (*j)->Judge(std::span(&base.state, 1));
      if (!v.ok()) return ReportError(v.status());
      if (!v->front().ok) failing.push_back({o, v->front().signature, v->front().detail});
    }
  }

  nlohmann::json out = {{"trace", trace},
                        {"state", state.id},
                        {"crash_point", state.crash_point},
                        {"dropped", state.dropped},
                        {"run", run_id ? nlohmann::json(run_id) : nlohmann::json(nullptr)},
                        {"explained", nlohmann::json::array()}};
  nlohmann::json torn_json = nlohmann::json::array();
  for (const auto& t : state.torn) torn_json.push_back({{"entry", t.entry}, {"sectors", t.sectors}});
  out["torn"] = torn_json;
  std::string text = fmt::format("torn explain {}: state {}, crash point {}, {} entries lost{}\n", trace, state.id,
                                 state.crash_point, state.dropped.size(),
                                 state.torn.empty() ? "" : fmt::format(", {} torn writes", state.torn.size()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(seconds * 1000));
  for (const Failing& f : failing) {
    std::string oracle(oracles::OracleName(f.oracle));
    std::optional<nlohmann::json> m;
    if (tstore) {
      auto stored = tstore->LoadMinimized(run_id, oracle, f.signature, state.id);
      if (!stored.ok()) return ReportError(stored.status());
      if (*stored) {
        auto j = nlohmann::json::parse((*stored)->result_json, nullptr, false);
        if (!j.is_discarded()) m = std::move(j);
      }
    }
    if (!m) {
      auto j = judge_for(f.oracle);
      if (!j.ok()) return ReportError(j.status());
      triage::Failure fail = base;
      fail.oracle = f.oracle;
      fail.signature = f.signature;
      fmt::print(stderr, "torn: minimizing the {} failure of state {} ({} writes/sectors lost)\n", oracle, state.id,
                 triage::LostElements(setup->log, fail.state).size());
      auto mm = triage::Minimize(**j, fail, {.max_tests = max_tests, .deadline = deadline});
      if (!mm.ok()) return ReportError(mm.status());
      std::vector<triage::WriteExplanation> ex;
      if (mm->reproduced) {
        auto e = triage::Explain(**j, *mm);
        if (!e.ok()) return ReportError(e.status());
        ex = std::move(e).value();
      }
      checker::Violation minimal = as_violation;
      minimal.oracle = f.oracle;
      minimal.dropped = mm->state.dropped;
      minimal.torn = mm->state.torn;
      m = triage::MinimizedToJson(fail, *mm, ex, report::ReproduceCommand(trace, setup->image_bytes, minimal));
      if (tstore) {
        Status saved = tstore->SaveMinimized(run_id, {oracle, f.signature, state.id, m->dump(), mm->seconds});
        if (!saved.ok()) return ReportError(saved);
      }
    }
    nlohmann::json e = {{"oracle", oracle},
                        {"signature", f.signature},
                        {"detail", f.detail},
                        {"minimal", (*m)["minimal"]},
                        {"explanation", (*m)["explanation"]},
                        {"minimization", *m}};
    e["minimization"].erase("explanation");
    out["explained"].push_back(std::move(e));
    text += fmt::format("\n{} fails: {}\n    {}\n", oracle, f.signature, f.detail);
    text += triage::MinimizationText(*m, "    ", SIZE_MAX);
  }
  if (failing.empty())
    text += only ? fmt::format("the {} oracle passes on this state: nothing to explain\n", oracles::OracleName(*only))
                 : "every oracle passes on this state: nothing to explain\n";
  if (json) fmt::print("{}\n", out.dump(2));
  else fmt::print("{}", text);
  return kExitOk;
}

}  // namespace torn::cli
