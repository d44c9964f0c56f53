// torn states TRACE [--model M] [--from-mark NAME | --all-points] [--points P] [--max-states N] [--seed S]
//   [--classes [--why]] [--json]:
// how many crash states a model allows for a trace, per segment and in total, and how many the
// enumeration generates within the budget, by which strategy. `possible` is exact: in JSON it is always
// a string of decimal digits (it outgrows 2^53 quickly: a window of n writes alone has 2^n states).
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "checker/setup.h"
#include "classes/reducer.h"
#include "cli/command.h"
#include "models/model.h"
#include "trace/log.h"

namespace torn::cli {
namespace {

constexpr const char* kHelp =
    "Count the crash states of a trace under a model of the device's guarantees.\n\n"
    "A trace is one history of block I/O; a crash state is what a power cut at some moment of it\n"
    "could leave on the device: some set of the logged writes, durable, applied in log order. A\n"
    "model says which sets are possible:\n"
    "  prefix       a cut after any entry, nothing reordered (xfstests' replay-log)\n"
    "  epoch        every write since the last flush may or may not be durable, FUA ones included\n"
    "               (CrashMonkey's view; over-approximates: it can drop a FUA commit block while\n"
    "               keeping writes issued after it completed)\n"
    "  fua-barrier  (default) everything through the last flush or FUA write is durable, any subset\n"
    "               of the writes logged after it (reachable under the block layer's contract)\n"
    "  torn-sector  fua-barrier, with each write durable in any subset of its logical sectors\n"
    "  reorder:K    BEYOND THE CONTRACT: a lower layer that reorders writes across K flushes (does not\n"
    "               honour the last K flushes or FUA writes before the crash): everything through the\n"
    "               barrier K barriers before the last is durable, any subset of the writes after it,\n"
    "               FUA writes included. A state it finds broken is possible under such a layer (a\n"
    "               dm-crypt or loop that reorders around flushes), never an ext4 bug\n"
    "States are grouped in segments, one per barrier (flush or FUA write). Where a segment has more\n"
    "states than the budget allows, a bounded, seeded strategy picks which to generate; the output\n"
    "always says how many are possible and how many are generated. See docs/models.md.\n\n"
    "Crash points start at the trace's `mkfs` mark when it has one and no --from-mark is given\n"
    "(mkfs is not crash-safe and does not claim to be); --all-points (or --from-mark '') counts them\n"
    "all, as torn check does.\n\n"
    "TRACE is a trace directory or a dm-log-writes log (raw or zstd).";

std::string Short(const models::BigCount& n) {
  std::string s = n.str();
  if (s.size() <= 20) return s;
  return fmt::format("{}.{}e{}", s[0], s.substr(1, 2), s.size() - 1);
}

}  // namespace

int RunStates(std::vector<std::string> args) {
  CLI::App app{kHelp, "torn states"};
  std::string trace, model_name = std::string(models::ModelName(models::kDefaultModel)), from_mark,
                     points_name = "all";
  models::SpaceOptions o;
  bool json = false, all_points = false;
  app.add_option("TRACE", trace, "trace directory or log file")->required();
  app.add_option("--model", model_name, "prefix, epoch, fua-barrier (default), torn-sector or reorder:K");
  app.add_option("--from-mark", from_mark,
                 "only crash points from this mark on (default: `mkfs` when the trace has it; '' for all)");
  app.add_flag("--all-points", all_points, "crash points from the start of the trace, inside mkfs too");
  app.add_option("--points", points_name, "crash points: all (default), flush, fua or mark");
  app.add_option("--max-states", o.max_states, "budget of generated states over the whole trace")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the bounded strategy's random states")
      ->capture_default_str();
  app.add_flag("--json", json, "print JSON: {total: {possible, generated, strategy, seed}, "
                               "segments: [...]}, possible as a decimal string");
  bool classes = false;
  std::string scratch = "/dev/shm";
  app.add_flag("--classes", classes,
               "reduce as torn check does: prove, window by window, which writes cannot change a state's "
               "class (in-process journal recovery and the recovered image's metadata; no e2fsck), and "
               "count the groups left to judge (see torn check --help)");
  app.add_option("--scratch", scratch, "directory for the scratch image of --classes (default /dev/shm)");
  bool why = false;
  app.add_flag("--why", why, "with --classes: say, for each write left free, what stops the proof");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  auto model = models::ParseModelChoice(model_name);
  if (!model.ok()) return ReportError(model.status());
  auto points = models::ParseCrashPoints(points_name);
  if (!points.ok()) return ReportError(points.status());
  o.model = model->kind;
  o.reorder = model->reorder;
  o.points = *points;
  o.digests = false;
  auto log = trace::Log::Open(trace);
  if (!log.ok()) return ReportError(log.status());
  if (all_points && !from_mark.empty()) return ReportError(BadInput("--all-points and --from-mark NAME conflict"));
  bool from_default = false;
  if (!all_points && app.count("--from-mark") == 0 && log->FindMark(models::kDefaultFromMark)) {
    from_mark = std::string(models::kDefaultFromMark);
    from_default = true;
    fmt::print(stderr, "torn: crash points start at mark '{}' (the default; --all-points to count inside mkfs)\n",
               from_mark);
  }
  if (!from_mark.empty()) {
    auto at = log->FindMark(from_mark);
    if (!at) {
      std::string known;
      for (const auto& m : log->marks()) known += (known.empty() ? "" : ", ") + m.name;
      return ReportError(BadInput(trace + ": no mark named '" + from_mark + "' (marks: " +
                                  (known.empty() ? "none" : known) + ")"));
    }
    o.from_entry = *at;
  }
  // --classes: the check's setup (manifests, journal map) and its reduction.
  std::optional<checker::Setup> setup;
  std::unique_ptr<classes::Reducer> reducer;
  if (classes) {
    auto prepared = checker::Prepare({.trace = trace, .space = o, .from_mark = from_mark.empty() ? std::nullopt : std::optional(from_mark),
                                      .default_from_mark = false});
    if (!prepared.ok()) return ReportError(prepared.status());
    setup.emplace(std::move(prepared).value());
    auto r = classes::Reducer::Create(setup->log, {.image_bytes = setup->image_bytes,
                                                   .scratch_dir = scratch,
                                                   .data = setup->data ? &*setup->data : nullptr,
                                                   .ordering = setup->ordering ? &*setup->ordering : nullptr});
    if (!r.ok()) return ReportError(r.status());
    reducer = std::move(r).value();
    o.fix_units = reducer->Callback();
  }
  auto space = models::StateSpace::Build(setup ? setup->log : *log, o);
  if (!space.ok()) return ReportError(space.status());
  models::Coverage cov = space->coverage();

  if (json) {
    nlohmann::json segs = nlohmann::json::array();
    for (const models::Segment& s : space->segments()) {
      segs.push_back({{"index", s.index},
                      {"barrier", s.barrier == models::kNoEntry ? nlohmann::json(nullptr)
                                                                : nlohmann::json(s.barrier)},
                      {"first", s.first},
                      {"last", s.last},
                      {"content_entries", s.content_entries},
                      {"units", s.units},
                      {"possible", s.possible.str()},
                      {"generated", s.generated},
                      {"duplicates", s.duplicates},
                      {"strategy", s.strategy}});
      if (reducer)
        segs.back().update({{"fixed", s.fixed}, {"groups", s.groups.str()}, {"covered", s.covered.str()}});
    }
    nlohmann::json j = {
        {"trace", trace},
        {"model", model_name},
        {"points", points_name},
        {"from_mark", from_mark.empty() ? nlohmann::json(nullptr) : nlohmann::json(from_mark)},
        {"from_mark_default", from_default},
        {"max_states", o.max_states},
        {"beyond_contract", models::BeyondContract(o.model)},
        {"total",
         {{"possible", cov.possible.str()},
          {"generated", cov.generated},
          {"duplicates", cov.duplicates},
          {"strategy", cov.strategy},
          {"seed", cov.seed}}},
        {"segments", segs},
    };
    if (reducer) {
      j["total"]["covered"] = cov.covered.str();
      nlohmann::json units;
      for (const auto& [kind, n] : reducer->summary().units) units[std::string(classes::UnitKindName(kind))] = n;
      j["classes"] = {{"windows", reducer->summary().windows},
                      {"reduced_windows", reducer->summary().reduced_windows},
                      {"units", units},
                      {"not_reduced", reducer->summary().not_reduced},
                      {"free", reducer->summary().free}};
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("trace {}  model {}  points {}{}\n", trace, model_name, points_name,
             from_mark.empty() ? "" : "  from mark " + from_mark);
  if (o.model == models::ModelKind::kReorder)
    fmt::print("beyond the block layer's contract: the states of a lower layer that reorders writes across {} "
               "flush{} (a segment's window starts {} barrier{} before its crash points; segments overlap, "
               "each state counted once)\n",
               o.reorder, o.reorder == 1 ? "" : "es", o.reorder, o.reorder == 1 ? "" : "s");
  fmt::print("\n");
  fmt::print("{:>7} {:>8} {:>15} {:>7} {:>6} {:>22} {:>10} {:>6}  {}\n", "segment", "barrier",
             "window", "writes", "units", "possible", "generated", "dups", "strategy");
  for (const models::Segment& s : space->segments()) {
    std::string barrier = s.barrier == models::kNoEntry ? "start" : std::to_string(s.barrier);
    std::string window = s.first > s.last ? "-" : fmt::format("{}..{}", s.first, s.last);
    fmt::print("{:>7} {:>8} {:>15} {:>7} {:>6} {:>22} {:>10} {:>6}  {}\n", s.index, barrier, window,
               s.content_entries, s.units, Short(s.possible), s.generated, s.duplicates,
               s.strategy);
  }
  fmt::print("\ntotal: {} states possible{}, {} generated ({}), {} of them certainly identical to "
             "another generated state (dups)\n",
             Short(cov.possible), cov.possible.str().size() > 20 ? " (exact in --json)" : "",
             cov.generated, cov.strategy, cov.duplicates);
  if (reducer) {
    fmt::print("classes: {} states covered by the generated ones; writes fixed:", Short(cov.covered));
    for (const auto& [kind, n] : reducer->summary().units) fmt::print(" {} {};", classes::UnitKindName(kind), n);
    fmt::print("\n");
    for (const auto& s : space->segments())
      if (s.fixed) fmt::print("  segment {}: {} of {} units fixed, {} groups\n", s.index, s.fixed, s.units, Short(s.groups));
    for (const auto& line : reducer->summary().not_reduced) fmt::print("  not reduced: {}\n", line);
    if (why)
      for (const auto& line : reducer->summary().free) fmt::print("  free: {}\n", line);
  }
  return kExitOk;
}

}  // namespace torn::cli
