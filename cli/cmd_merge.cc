// torn merge OUT.db [IN.db...] [--json] [--junit FILE] [--all]
// Merges the databases of a check's shards (torn check --shard K/N --db IN.db) into OUT.db, then prints
// the merged result as torn check prints a run's: the human report, or --json; --junit FILE too.
// With no IN, prints the result OUT.db holds. Exit as torn check: 0 nothing found, 1 violations,
// 2 bad input (shards of another check, overlapping or missing shards, an unfinished shard).
// The rules are checker/merge.h's; docs/scale.md shows it on Slurm and Kubernetes.
// Campaign databases (torn fuzz --shard K/N --db IN.db) are recognised and merged by
// campaign::MergeCampaigns, the result printed as torn fuzz prints a campaign.

#include <chrono>

#include <fmt/core.h>

#include "base/file_io.h"
#include "campaign/campaign.h"
#include "checker/merge.h"
#include "checker/result.h"
#include "cli/cmd_fuzz.h"
#include "cli/command.h"
#include "cli/trace_facts.h"
#include "report/report.h"
#include "report/summary.h"
#include "store/store.h"
#include "triage/text.h"
#include "triage/triage.h"

namespace torn::cli {
namespace {

// torn merge OUT IN... over a fuzz campaign's shards.
int MergeCampaign(const std::string& out, const std::vector<std::string>& inputs, bool json,
                  const std::string& junit) {
  if (!junit.empty()) return ReportError(BadInput("--junit: a campaign has no JUnit report; use --json"));
  auto start = std::chrono::steady_clock::now();
  auto merged = campaign::MergeCampaigns(out, inputs);
  if (!merged.ok()) return ReportError(merged.status());
  for (const auto& line : merged->inputs) fmt::print(stderr, "torn merge: {}\n", line);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!inputs.empty()) {
    if (merged->unchanged)
      fmt::print(stderr, "torn merge: {} already holds this campaign with these {} workloads: nothing changed\n",
                 out, merged->workloads);
    else
      fmt::print(stderr, "torn merge: {} workloads into {} in {:.2f} s\n", merged->workloads, out, seconds);
  }
  auto r = campaign::ReadCampaign(out);
  if (!r.ok()) return ReportError(r.status());
  campaign::CampaignOptions o;
  o.db = out;
  if (r->config.count("mkfs_opts")) o.mkfs_opts = r->config.at("mkfs_opts");
  if (r->config.count("mount_opts")) o.mount_opts = r->config.at("mount_opts");
  return PrintCampaign(o, *r, json);
}

}  // namespace

int RunMerge(std::vector<std::string> args) {
  CLI::App app{
      "Merge the databases of a check's shards (torn check TRACE --shard K/N --db shard-K.db, the same\n"
      "options in every shard) into OUT, one database holding the whole check as if it had run on one\n"
      "machine, and print its result as torn check does. Refused, naming the file and the shard: a\n"
      "shard of another trace or of other options, a shard given twice or from a split into another\n"
      "N, missing shards, a shard that did not finish (rerun it: it resumes). Merging again, or\n"
      "merging OUT with itself, changes nothing. With no IN, prints what OUT holds.\n"
      "`torn check TRACE --db OUT` with the same options finds the merged check finished and prints\n"
      "it too (with the reproduce command, which needs the trace).\n"
      "The shards of a fuzz campaign (torn fuzz --shard K/N --db shard-K.db) merge the same way: OUT\n"
      "then holds the whole campaign (its failing workloads' traces in OUT.traces), printed as torn\n"
      "fuzz prints it; refused likewise (another campaign or options, overlapping, missing or\n"
      "unfinished shards).",
      "torn merge"};
  std::string out, junit;
  std::vector<std::string> inputs;
  bool json = false, all = false;
  app.add_option("OUT", out, "the merged database (created when missing)")->required();
  app.add_option("IN", inputs, "the shards' databases");
  app.add_flag("--json", json, "print the merged result as JSON on stdout (torn check --json's format)");
  app.add_option("--junit", junit, "write the merged result as JUnit XML to this file");
  app.add_flag("--all,--verbose", all, "list every violation, one line each (default: the first 10)");
  app.footer(
      "\nExample (docs/scale.md has the Slurm array and the Kubernetes Indexed Job):\n"
      "  torn check TRACE --shard 1/2 --db s1.db & torn check TRACE --shard 2/2 --db s2.db; wait\n"
      "  torn merge all.db s1.db s2.db --junit junit.xml");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  bool campaign_dbs = campaign::IsCampaignDb(out);
  for (const auto& in : inputs) campaign_dbs = campaign_dbs || campaign::IsCampaignDb(in);
  if (campaign_dbs) return MergeCampaign(out, inputs, json, junit);

  auto start = std::chrono::steady_clock::now();
  int64_t run_id = 0;
  if (inputs.empty()) {
    auto id = checker::OnlyRun(out);
    if (!id.ok()) return ReportError(id.status());
    run_id = *id;
  } else {
    auto merged = checker::MergeShards(out, inputs);
    if (!merged.ok()) return ReportError(merged.status());
    for (const auto& line : merged->inputs) fmt::print(stderr, "torn merge: {}\n", line);
    for (const auto& w : merged->warnings) fmt::print(stderr, "torn merge: warning: {}\n", w);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (merged->unchanged)
      fmt::print(stderr, "torn merge: {} already holds this check with these {} states: nothing changed\n", out,
                 merged->states);
    else
      fmt::print(stderr, "torn merge: {} states into {} (run {}) in {:.2f} s\n", merged->states, out,
                 merged->run_id, seconds);
    run_id = merged->run_id;
  }

  auto db = store::Store::Open(out);
  if (!db.ok()) return ReportError(db.status());
  auto runs = db->Runs();
  if (!runs.ok()) return ReportError(runs.status());
  auto run = std::find_if(runs->begin(), runs->end(), [&](const auto& r) { return r.id == run_id; });
  if (run == runs->end()) return ReportError(Internal(fmt::format("{}: run {} vanished", out, run_id)));
  auto r = checker::ResultFromStore(*db, *run);
  if (!r.ok()) return ReportError(r.status());
  if (!junit.empty()) {
    if (Status st = WriteFileAtomic(junit, report::ResultToJunit(*r)); !st.ok())
      return ReportError(st.with_context("the JUnit report"));
  }
  // Signatures grouped, not minimized: the shards' minimizations judged their own representatives
  // (torn explain --db OUT minimizes one of the merged run's states).
  triage::Triage triaged = triage::GroupOnly(*r);
  if (json) {
    nlohmann::json j = report::ResultToJson(*r);
    j["signatures"] = triage::ToJson(triaged);
    fmt::print("{}\n", j.dump(2));
  } else {
    report::SummaryOptions so;
    so.all = all;
    so.trace_arg = r->trace;
    if (!r->violations.empty()) AddTraceFacts(r->trace, so);
    so.signatures = triage::ToText(triaged, {.all = all});
    fmt::print("{}", report::ResultToText(*r, so));
  }
  return r->violations.empty() ? kExitOk : kExitViolations;
}

}  // namespace torn::cli
