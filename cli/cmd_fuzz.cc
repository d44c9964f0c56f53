// torn fuzz --db FILE [--mount-opts O] [--mkfs-opts O] [--length 1|2|3] [--workloads N] [--every K]
//           [--per-boot N] [--states N] [--check-time S] [--time S] [--jobs N] [--kernel VMLINUZ] [--json]
// A fuzz campaign (campaign/campaign.h, docs/fuzz.md).
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "campaign/campaign.h"
#include "cli/command.h"

namespace torn::cli {
namespace {

constexpr const char* kHelp =
    "Run a fuzz campaign: bounded exhaustive workloads (a durable setup, then 1..LENGTH steps of one\n"
    "operation and one persistence operation: fsync, fdatasync, fsync of the parent, sync), recorded\n"
    "many per boot of the lab VM (a fresh ext4 per workload, one dm-log-writes trace each, run by\n"
    "torn's own runner: no shell per operation), each trace checked like torn check (classes on; fsck,\n"
    "data and ordering oracles) where the data oracle holds what each persistence operation promised\n"
    "(docs/fuzz.md). Findings are grouped by signature in the campaign database --db, which a later\n"
    "run resumes (also after kill -9); the traces of failing workloads stay in DB.traces/w<ID>\n"
    "(torn check DB.traces/w<ID> reproduces the check; workload.txt in it is the workload).\n"
    "\n"
    "Exit status: 0 no finding, 1 findings, 2 bad usage or a failure, 130 interrupted.\n"
    "Examples:\n"
    "  torn fuzz --db nobarrier.db --mount-opts barrier=0 --length 1 --workloads 16\n"
    "  torn fuzz --db default.db --length 2 --every 97 --time 1h";

}  // namespace

int RunFuzz(std::vector<std::string> args) {
  campaign::CampaignOptions o;
  std::string accel = "auto";
  uint64_t check_time = 120, time_budget = 0;
  bool json = false, quiet = false;
  CLI::App app(kHelp, "torn fuzz");
  app.add_option("--db", o.db, "the campaign database (SQLite; created, or resumed)")->required();
  app.add_option("--dir", o.dir, "where failing workloads' traces go (default: DB.traces)");
  app.add_option("--mkfs-opts", o.mkfs_opts, "mke2fs options, e.g. -O fast_commit");
  app.add_option("--mount-opts", o.mount_opts, "mount options, e.g. barrier=0");
  app.add_option("--length", o.max_length, "steps after the setup, 1 to 3 (default 2)");
  app.add_option("--workloads", o.max_workloads, "consider at most N workloads (0: all)");
  app.add_option("--every", o.every, "consider every K-th workload of the generation order");
  app.add_option("--per-boot", o.per_boot, "workloads recorded per boot of the lab VM (default 16)");
  app.add_option("--states", o.states_per_workload, "crash states (groups) judged per workload at most (default 2000)");
  app.add_option("--check-time", check_time, "seconds of checking per workload at most (default 120)");
  app.add_option("--time", time_budget, "seconds for the whole run; it stops between boots (0: none)");
  app.add_option("--jobs", o.jobs, "parallel judges per check");
  app.add_option("--kernel", o.kernel_image, "boot this kernel image instead of Debian's");
  app.add_option("--accel", accel, "auto, kvm or tcg");
  app.add_flag("--json", json, "print the result as JSON");
  app.add_flag("--quiet", quiet, "no progress lines");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;
  o.check_time = std::chrono::seconds(check_time);
  o.time_budget = std::chrono::seconds(time_budget);
  if (accel == "kvm") o.accel = lab::Accel::kKvm;
  else if (accel == "tcg") o.accel = lab::Accel::kTcg;
  else if (accel != "auto") return ReportError(BadInput("--accel: auto, kvm or tcg"));
  if (!quiet) o.on_progress = [](std::string_view s) { fmt::print(stderr, "torn fuzz: {}\n", s); };

  auto r = campaign::RunCampaign(o);
  if (!r.ok()) return ReportError(r.status());
  double hours = r->seconds / 3600.0;
  if (json) {
    nlohmann::json j = {
        {"considered", r->considered}, {"done", r->done}, {"this_run", r->this_run},
        {"record_failed", r->record_failed}, {"check_failed", r->check_failed},
        {"with_violations", r->with_violations}, {"boots", r->boots}, {"states_possible", r->possible},
        {"states_covered", r->covered}, {"states_judged", r->judged}, {"seconds", r->seconds},
        {"record_seconds", r->record_seconds}, {"check_seconds", r->check_seconds},
        {"budget_cut", r->budget_cut}, {"findings", nlohmann::json::array()}};
    for (const auto& f : r->findings)
      j["findings"].push_back({{"signature", f.signature}, {"oracle", f.oracle}, {"workloads", f.workloads},
                               {"states", f.states}, {"first_workload", f.first_workload},
                               {"steps", f.steps}, {"detail", f.detail}, {"trace", f.trace},
                               {"workload", f.first_text}});
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("campaign {}: {} of {} workloads done ({} this run, {} boots, {:.0f} s: record {:.0f} s, check {:.0f} s)\n",
               o.db, r->done, r->considered, r->this_run, r->boots, r->seconds, r->record_seconds,
               r->check_seconds);
    if (r->this_run > 0 && hours > 0)
      fmt::print("throughput: {:.0f} workloads/hour\n", static_cast<double>(r->this_run) / hours);
    fmt::print("crash states: {:.4g} possible, {:.4g} covered, {} judged over the done workloads\n",
               r->possible, r->covered, r->judged);
    if (r->record_failed || r->check_failed)
      fmt::print("failed: {} recordings, {} checks (see the workloads table)\n", r->record_failed, r->check_failed);
    if (r->budget_cut) fmt::print("stopped by --time; run again to resume\n");
    if (r->findings.empty()) {
      fmt::print("PASS: no finding\n");
    } else {
      fmt::print("FAIL: {} signatures over {} workloads\n", r->findings.size(), r->with_violations);
      for (const auto& f : r->findings) {
        fmt::print("  [{}] {} — {} workloads, {} states; first: workload {} ({})\n", f.oracle, f.signature,
                   f.workloads, f.states, f.first_workload, f.steps);
        if (!f.trace.empty()) fmt::print("      reproduce: torn check {}\n", f.trace);
      }
    }
  }
  return r->findings.empty() ? kExitOk : kExitViolations;
}

}  // namespace torn::cli
