// torn fuzz --db FILE [--mount-opts O] [--mkfs-opts O] [--length 1|2|3] [--workloads N] [--every K]
//           [--shard K/N] [--per-boot N] [--states N] [--check-time S] [--time S] [--jobs N] [--kernel VMLINUZ] [--json]
// A fuzz campaign (campaign/campaign.h, docs/fuzz.md).
// torn fuzz --record WORKLOAD --out DIR [--mount-opts O] [--mkfs-opts O]: record one workload file
// (workload/op.h) the way a campaign does, into a trace directory: a finding's reproducer.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "campaign/campaign.h"
#include "campaign/shrink.h"
#include "campaign/record_batch.h"
#include "checker/shard.h"
#include "cli/cmd_fuzz.h"
#include "cli/command.h"
#include "workload/op.h"

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
    "--shard K/N does the K-th of N disjoint parts of the campaign (the selected workloads whose\n"
    "position in the selection mod N is K-1), e.g. one task of a Slurm array; its --db resumes that\n"
    "shard only. `torn merge OUT.db SHARD.db...` joins the shards into the whole campaign (docs/scale.md).\n"
    "\n"
    "--record WORKLOAD --out DIR records one workload file (workload/op.h) the way the campaign does,\n"
    "into a trace directory for torn check: a finding's reproducer.\n"
    "\n"
    "Exit status: 0 no finding, 1 findings, 2 bad usage or a failure, 130 interrupted.\n"
    "Examples:\n"
    "  torn fuzz --db nobarrier.db --mount-opts barrier=0 --length 1 --workloads 16\n"
    "  torn fuzz --db default.db --length 2 --every 97 --time 3600\n"
    "  torn fuzz --record w.txt --out t --mount-opts barrier=0 && torn check t\n"
    "  torn fuzz --db s1.db --length 1 --shard 1/2 & torn fuzz --db s2.db --length 1 --shard 2/2; wait\n"
    "  torn merge all.db s1.db s2.db";

// The commands that record a workload again and check it.
std::string Reproduce(const campaign::CampaignOptions& o, const std::string& workload_file) {
  std::vector<std::string> rec = {"torn", "fuzz", "--record", workload_file, "--out", "repro"};
  if (!o.mkfs_opts.empty()) rec.insert(rec.end(), {"--mkfs-opts", o.mkfs_opts});
  if (!o.mount_opts.empty()) rec.insert(rec.end(), {"--mount-opts", o.mount_opts});
  return QuoteArgv(rec) + " && torn check repro";
}

int RecordOne(const campaign::CampaignOptions& o, const std::string& file, const std::string& out) {
  auto text = ReadFileToString(file);
  if (!text.ok()) return ReportError(text.status());
  auto w = workload::Parse(*text);
  if (!w.ok()) return ReportError(w.status().with_context(file));
  campaign::BatchOptions b;
  b.mkfs_opts = o.mkfs_opts;
  b.mount_opts = o.mount_opts;
  b.kernel_image = o.kernel_image;
  b.accel = o.accel;
  b.on_progress = o.on_progress;
  auto r = campaign::RecordBatch(b, {{workload::Print(*w), out}});
  if (!r.ok()) return ReportError(r.status());
  const auto& it = r->items.at(0);
  if (!it.status.ok()) return ReportError(it.status.with_context(file));
  for (const auto& f : it.op_failures) fmt::print(stderr, "torn fuzz: operation {} failed\n", f);
  fmt::print("recorded {} into {}: {} entries ({:.1f} s)\n", file, out, it.entries, r->seconds);
  return kExitOk;
}

nlohmann::json ShrunkJson(const campaign::CampaignOptions& o, const campaign::Finding& f) {
  if (!f.shrunk) return nullptr;
  const campaign::Shrunk& k = *f.shrunk;
  auto m = nlohmann::json::parse(k.minimization, nullptr, false);
  return {{"from_workload", k.from_workload}, {"from_ops", k.from_ops}, {"ops", k.ops}, {"workload", k.text},
          {"rounds", k.rounds}, {"recorded", k.recorded}, {"trace", k.trace},
          {"reproduce", Reproduce(o, k.trace + "/workload.txt")},
          {"minimization", m.is_discarded() ? nlohmann::json(nullptr) : m}, {"note", k.note}, {"seconds", k.seconds}};
}

void PrintShrunk(const campaign::CampaignOptions& o, const campaign::Shrunk& k) {
  std::string ops;
  for (std::string_view rest = k.text; !rest.empty();) {
    size_t nl = rest.find('\n');
    ops += (ops.empty() ? "" : "; ") + std::string(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
  }
  fmt::print("      shrunk: {} operations -> {} ({} rounds, {} recorded, {:.0f} s): {}\n", k.from_ops, k.ops, k.rounds,
             k.recorded, k.seconds, ops);
  auto m = nlohmann::json::parse(k.minimization, nullptr, false);
  if (!m.is_discarded() && m.is_object()) {
    fmt::print("      minimal crash state: crash point {}, {} writes lost -> {}{}\n", m.value("crash_point", 0),
               m.value("lost", 0), m["minimal"].dump(), m.value("one_minimal", false) ? " (1-minimal)" : "");
    const auto explained = m.value("explanation", nlohmann::json::array());
    constexpr size_t kShown = 5;  // a data failure at a mark can need every write of the step
    for (size_t i = 0; i < explained.size() && i < kShown; ++i) {
      const auto& w = explained[i];
      if (w.contains("blocks") && !w["blocks"].empty())
        fmt::print("        entry {}: {}; {}\n", w.value("entry", 0), w["blocks"][0].value("what", ""), w.value("when", ""));
    }
    if (explained.size() > kShown)
      fmt::print("        … {} more writes (torn explain, or --json)\n", explained.size() - kShown);
    fmt::print("        {}\n", m.value("reproduce", ""));
  } else if (!k.note.empty()) {
    fmt::print("      {}\n", k.note);
  }
  fmt::print("      shrunk trace: torn check {}; reproduce: {}\n", k.trace, Reproduce(o, k.trace + "/workload.txt"));
}

}  // namespace

int PrintCampaign(const campaign::CampaignOptions& o, const campaign::CampaignResult& r, bool json) {
  std::string shard = r.config.count("shard") ? r.config.at("shard") : "";
  std::string db_name = o.db + (shard.empty() ? "" : " (shard " + shard + ")");
  double hours = r.seconds / 3600.0;
  if (json) {
    nlohmann::json j = {
        {"considered", r.considered}, {"done", r.done}, {"this_run", r.this_run},
        {"record_failed", r.record_failed}, {"check_failed", r.check_failed},
        {"with_violations", r.with_violations}, {"boots", r.boots}, {"states_possible", r.possible},
        {"states_covered", r.covered}, {"states_judged", r.judged}, {"seconds", r.seconds},
        {"record_seconds", r.record_seconds}, {"check_seconds", r.check_seconds},
        {"budget_cut", r.budget_cut}, {"shard", shard}, {"findings", nlohmann::json::array()}};
    for (const auto& f : r.findings)
      j["findings"].push_back({{"signature", f.signature}, {"oracle", f.oracle}, {"workloads", f.workloads},
                               {"states", f.states}, {"first_workload", f.first_workload},
                               {"steps", f.steps}, {"detail", f.detail}, {"trace", f.trace},
                               {"workload", f.first_text},
                               {"reproduce", f.trace.empty() ? "" : Reproduce(o, f.trace + "/workload.txt")},
                               {"shrunk", ShrunkJson(o, f)}});
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("campaign {}: {} of {} workloads done ({} this run, {} boots, {:.0f} s: record {:.0f} s, check {:.0f} s)\n",
               db_name, r.done, r.considered, r.this_run, r.boots, r.seconds, r.record_seconds,
               r.check_seconds);
    if (r.this_run > 0 && hours > 0)
      fmt::print("throughput: {:.0f} workloads/hour\n", static_cast<double>(r.this_run) / hours);
    fmt::print("crash states: {:.4g} possible, {:.4g} covered, {} judged over the done workloads\n",
               r.possible, r.covered, r.judged);
    if (r.record_failed || r.check_failed)
      fmt::print("failed: {} recordings, {} checks (see the workloads table)\n", r.record_failed, r.check_failed);
    if (r.budget_cut) fmt::print("stopped by --time; run again to resume\n");
    if (r.findings.empty()) {
      fmt::print("PASS: no finding\n");
    } else {
      fmt::print("FAIL: {} signatures over {} workloads\n", r.findings.size(), r.with_violations);
      for (const auto& f : r.findings) {
        fmt::print("  [{}] {} — {} workloads, {} states; first: workload {} ({})\n", f.oracle, f.signature,
                   f.workloads, f.states, f.first_workload, f.steps);
        if (!f.trace.empty()) {
          fmt::print("      trace: torn check {}\n", f.trace);
          fmt::print("      reproduce: {}\n", Reproduce(o, f.trace + "/workload.txt"));
        }
        if (f.shrunk) PrintShrunk(o, *f.shrunk);
      }
    }
  }
  return r.findings.empty() ? kExitOk : kExitViolations;
}

int RunFuzz(std::vector<std::string> args) {
  campaign::CampaignOptions o;
  std::string accel = "auto";
  uint64_t check_time = 120, time_budget = 0;
  bool json = false, quiet = false;
  size_t shrink = 0;
  std::string record, out, shard;
  CLI::App app(kHelp, "torn fuzz");
  app.add_option("--db", o.db, "the campaign database (SQLite; created, or resumed)");
  app.add_option("--record", record, "record this one workload file instead (with --out)");
  app.add_option("--out", out, "--record: the trace directory to write");
  app.add_option("--dir", o.dir, "where failing workloads' traces go (default: DB.traces)");
  app.add_option("--mkfs-opts", o.mkfs_opts, "mke2fs options, e.g. -O fast_commit");
  app.add_option("--mount-opts", o.mount_opts, "mount options, e.g. barrier=0");
  app.add_option("--length", o.max_length, "steps after the setup, 1 to 3 (default 2)");
  app.add_option("--workloads", o.max_workloads, "consider at most N workloads (0: all)");
  app.add_option("--every", o.every, "consider every K-th workload of the generation order");
  app.add_option("--shard", shard, "do the K-th of N disjoint parts of the campaign (K/N, 1 <= K <= N)");
  app.add_option("--per-boot", o.per_boot, "workloads recorded per boot of the lab VM (default 16)");
  app.add_option("--states", o.states_per_workload, "crash states (groups) judged per workload at most (default 2000)");
  app.add_option("--mount-every", o.mount_every,
                 "the mount oracle (the lab VM's kernel mounts and walks the judged states) on the workloads "
                 "whose id is a multiple of K (default 50; 0: none)");
  app.add_flag("--host-mount", o.host_mount,
               "the mount oracle and the kernel's journal replay of fast_commit states on this machine's "
               "kernel (root; a corrupt image can crash it) instead of the lab VM's: a fast_commit campaign "
               "needs that replay for nearly every state");
  app.add_option("--check-time", check_time, "seconds of checking per workload at most (default 120)");
  app.add_option("--time", time_budget, "seconds for the whole run: no workload is checked after it (at most one --check-time more); the rest is done on resume (0: none)");
  app.add_option("--jobs", o.jobs, "parallel judges per check");
  app.add_option("--kernel", o.kernel_image, "boot this kernel image instead of Debian's");
  app.add_option("--accel", accel, "auto, kvm or tcg");
  app.add_option("--shrink", shrink,
                 "then shrink the first N findings not shrunk yet (most workloads first): drop operations one at "
                 "a time while the signature stays (each round one boot), then minimize the crash state "
                 "(docs/fuzz.md)");
  app.add_flag("--json", json, "print the result as JSON");
  app.add_flag("--quiet", quiet, "no progress lines");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;
  o.check_time = std::chrono::seconds(check_time);
  o.time_budget = std::chrono::seconds(time_budget);
  if (accel == "kvm") o.accel = lab::Accel::kKvm;
  else if (accel == "tcg") o.accel = lab::Accel::kTcg;
  else if (accel != "auto") return ReportError(BadInput("--accel: auto, kvm or tcg"));
  if (!shard.empty()) {
    auto k = checker::ParseShard(shard);
    if (!k.ok()) return ReportError(k.status().with_context("--shard"));
    o.shard = *k;
  }
  if (!quiet) o.on_progress = [](std::string_view s) { fmt::print(stderr, "torn fuzz: {}\n", s); };
  if (!record.empty()) {
    if (out.empty()) return ReportError(BadInput("--record needs --out DIR"));
    return RecordOne(o, record, out);
  }
  if (o.db.empty()) return ReportError(BadInput("torn fuzz needs --db FILE (or --record FILE --out DIR)"));

  auto r = campaign::RunCampaign(o);
  if (!r.ok()) return ReportError(r.status());
  if (shrink > 0) {
    auto n = campaign::ShrinkFindings(o, shrink);
    if (!n.ok()) return ReportError(n.status().with_context("--shrink"));
    auto again = campaign::ReadCampaign(o.db);
    if (!again.ok()) return ReportError(again.status());
    r->findings = std::move(again->findings);
  }
  return PrintCampaign(o, *r, json);
}

}  // namespace torn::cli
