// torn check TRACE [--model M] [--points all|flush|fua|mark] [--from-mark NAME | --all-points] [--expect FILE]
//   [--oracle fsck,data,ordering,mount] [--host-mount] [--jobs N] [--budget N|Ns] [--db FILE] [--json]
//   [--junit FILE] [--all] [--scratch DIR] [--fsck-timeout S] [--shard K/N]
// Exit 0: nothing found; 1: violations; 2: bad input or usage; 130: interrupted (resume with --db).
// Without --from-mark, crash points start at the trace's `mkfs` mark when it has one (crashes inside
// mkfs are not interesting); --all-points or --from-mark '' opts out.

#include <fmt/core.h>

#include "base/file_io.h"
#include "report/report.h"
#include "checker/run.h"
#include "checker/state_image.h"
#include "report/summary.h"
#include "cli/check_triage.h"
#include "cli/command.h"
#include "triage/text.h"
#include "cli/trace_facts.h"
#include "trace/trace_dir.h"

namespace torn::cli {
namespace {

// "1000" states, or "30s" / "5m" of time.
Status ParseBudget(const std::string& s, checker::CheckOptions& o) {
  if (s.empty()) return BadInput("--budget: empty");
  char unit = s.back();
  std::string digits = (unit == 's' || unit == 'm') ? s.substr(0, s.size() - 1) : s;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    return BadInput("--budget '" + s + "': give a number of states (1000) or a time (30s, 5m)");
  uint64_t n = std::stoull(digits);
  if (n == 0) return BadInput("--budget must be positive");
  if (unit == 's') o.time_budget = std::chrono::seconds(n);
  else if (unit == 'm') o.time_budget = std::chrono::minutes(n);
  else o.space.max_states = n;
  return Status::Ok();
}

std::string Clock(double s) {
  if (s < 0 || s > 359999) return "--:--";
  int t = static_cast<int>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

}  // namespace

int RunCheck(std::vector<std::string> args) {
  CLI::App app{
      "Enumerate the crash states a trace allows under a model, build each state's image, and judge\n"
      "it: fsck (e2fsck journal replay, then e2fsck -fn), data (files that must survive, from the\n"
      "manifests), ordering (jbd2's write-ahead rules on the trace), mount (the kernel's journal\n"
      "replay, in the lab VM, many images per boot; --host-mount: on this machine's kernel).\n"
      "On a fast_commit file system, fsck and data judge what the kernel's journal replay left (the\n"
      "mount oracle's way), not e2fsck's, which fails legal states (--fast-commit-replay).\n"
      "Classes: states that provably end in the same file system share their verdicts. torn replays\n"
      "each state's journal in process (as e2fsck -E journal_only does) and keys it by what e2fsck and\n"
      "the kernel read of the result (its metadata; not file data, free blocks or the emptied\n"
      "journal), and proves, window by window, which writes cannot change that key: in-place writes\n"
      "that journal replay overwrites, the next transaction's journal blocks, data nobody reads. Each\n"
      "generated state then stands for 2^k states, and one state per class is judged by the real\n"
      "tools. The report says states possible, classes, classes judged and states covered\n"
      "(docs/checker.md, \"Classes\"). --no-classes judges state by state (images that are equal,\n"
      "before or after journal replay, still share verdicts); --verify-classes N rebuilds N random\n"
      "members of every class for real and compares them with real e2fsck.\n"
      "With --db the results go to SQLite and an interrupted run resumes where it stopped.\n"
      "Crash points start at the trace's `mkfs` mark when it has one and no --from-mark is given:\n"
      "mkfs is not crash-safe (and does not claim to be), so crashes inside it are not checked.\n"
      "--all-points (or --from-mark '') checks them too.\n"
      "The report on stdout: the coverage, a table of failing states by oracle and crash point, the\n"
      "first 10 violations, and a `torn replay` command that rebuilds the first one's image by hand;\n"
      "--all lists every violation, --json / --junit FILE / --db FILE keep everything.",
      "torn check"};
  checker::CheckOptions o;
  std::string model = "fua-barrier", points = "all", oracles, budget, junit, from_mark, expect;
  bool json = false, all_points = false, all = false;
  double fsck_timeout = 60;
  app.add_option("TRACE", o.trace, "trace directory or log file")->required();
  app.add_option("--model", model,
                 "prefix, epoch, fua-barrier (default), torn-sector, or reorder:K: a lower layer that does "
                 "not honour the last K flushes/FUA writes before the crash (beyond the block layer's "
                 "contract: what it finds is possible under such a layer, not an ext4 bug; torn states "
                 "--help)");
  app.add_option("--points", points, "crash points: all (default), flush, fua, mark");
  app.add_option("--from-mark", from_mark,
                 "only crash points at or after this mark (default: `mkfs` when the trace has it; '' for all)");
  app.add_flag("--all-points", all_points, "crash points from the start of the trace, inside mkfs too");
  app.add_option("--expect", expect, "manifest file (default: the trace directory's expectations.json)");
  app.add_option("--oracle", oracles, "comma-separated: fsck,data,ordering,mount (default fsck,data,ordering)");
  app.add_flag("--host-mount", o.host_mount,
               "run the mount oracle on this machine's kernel (root; a corrupt image can crash it) instead "
               "of in the lab VM");
  std::string fc_replay = "kernel";
  app.add_option("--fast-commit-replay", fc_replay,
                 "who replays the journal of a fast_commit file system for fsck and data: kernel (default; "
                 "the mount oracle's path: the lab VM, or --host-mount) or e2fsck (e2fsprogs 1.47.0 fails "
                 "legal states: docs/fuzz.md)")
      ->check(CLI::IsMember({"kernel", "e2fsck"}));
  app.add_option("--kernel", o.vm_mount.kernel_image,
                 "the lab VM's kernel for the mount oracle (default: Debian's linux-image-amd64, cached)");
  app.add_option("--modules", o.vm_mount.modules_dir, "that kernel's lib/modules/<release> directory");
  app.add_option("--mount-batch", o.mount_batch,
                 "images the lab VM mounts per boot (default 64; a boot costs ~8 s under TCG)")
      ->check(CLI::Range(1, 10000));
  bool no_dedupe = false, no_classes = false;
  app.add_flag("--no-classes", no_classes,
               "judge state by state instead of class by class (states with equal images still share "
               "verdicts); for comparing with classes, or when a verdict looks suspicious");
  app.add_option("--verify-classes", o.verify_classes,
                 "self-check: build N random members of every judged class for real, replay their "
                 "journal with real e2fsck under a fixed clock, and compare with the class (exit 2 on a "
                 "mismatch, naming the state and the block)");
  app.add_flag("--no-dedupe", no_dedupe,
               "judge every state on its own, even when its image equals one judged before (before or "
               "after journal replay); slower, for when a verdict looks suspicious");
  app.add_option("--jobs,-j", o.jobs, "worker threads (default 1)")->check(CLI::Range(1, 256));
  app.add_option("--budget", budget, "states (1000) or time (30s, 5m) to spend");
  app.add_option("--db", o.db, "SQLite file for results; a rerun resumes the same check");
  app.add_flag("--json", json, "print the result as JSON on stdout");
  app.add_option("--junit", junit, "write a JUnit XML report to this file");
  app.add_flag("--all,--verbose", all, "list every violation, one line each (default: the first 10)");
  app.add_option("--scratch", o.scratch_dir, "directory for state images (default /dev/shm)");
  app.add_option("--fsck-timeout", fsck_timeout, "seconds per e2fsck run (default 60)");
  app.add_option("--seed", o.space.seed, "seed of the bounded enumeration (default 1)");
  app.add_option("--match", o.match,
                 "hunt one error: report only the failed verdicts whose detail or output this regular "
                 "expression (ECMAScript) matches, e.g. 'deleted inode referenced'; the other states are "
                 "judged, stored and counted as filtered, not reported. The members of a class share its "
                 "output, so a class is kept or filtered whole (docs/checker.md, \"Hunting an error\")");
  CheckTriageOptions triage_options;
  app.add_option("--minimize", triage_options.minimize,
                 "violations are grouped by signature (what failed, without one state's numbers); minimize and "
                 "explain a representative of the first N signatures, most states first (default 3; 0: none; "
                 "docs/triage.md)");
  app.add_option("--minimize-time", triage_options.seconds,
                 "seconds for those minimizations together (default 60); one cut short says so");
  std::string shard;
  app.add_option("--shard", shard,
                 "K/N: judge only the groups whose id mod N is K-1, one of N disjoint parts of the check (on "
                 "N machines: a Slurm array, a Kubernetes Indexed Job); give each its own --db and join them "
                 "with torn merge (docs/scale.md)");
  app.footer(
      "\nExamples:\n"
      "  torn check corpus/ext4-nobarrier --budget 50 --jobs 2\n"
      "  torn check TRACE --budget 5m --db results.db --junit junit.xml   # CI: resumable, JUnit for the UI\n"
      "  torn check TRACE --all | grep '\\[fsck\\]'                        # every violation, one per line\n"
      "  torn check TRACE --model reorder:1 --oracle mount,fsck --match 'deleted inode referenced'\n"
      "                                       # hunt a kernel error under a lower layer that reorders\n"
      "A violation printed as\n"
      "  #1 fsck on state 17, crash point 241\n"
      "      dropped 4 entries: [98,99,100,101]\n"
      "is rebuilt by hand with (the report prints this line, --device-size included):\n"
      "  torn replay TRACE --to-entry 241 --drop 98-101 --out state.img && \\\n"
      "      e2fsck -E journal_only -y state.img; e2fsck -fn state.img\n"
      "A torn-sector state adds --torn ENTRY:SECTORS (see torn replay --help).");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;
  o.kernel_replays_fast_commits = fc_replay == "kernel";

  o.dedupe = !no_dedupe;
  o.classes = !no_classes && !no_dedupe;
  o.vm_mount.fsck.timeout = std::chrono::milliseconds(static_cast<int64_t>(fsck_timeout * 1000));
  auto m = models::ParseModelChoice(model);
  if (!m.ok()) return ReportError(m.status());
  o.space.model = m->kind;
  o.space.reorder = m->reorder;
  auto p = models::ParseCrashPoints(points);
  if (!p.ok()) return ReportError(p.status());
  o.space.points = *p;
  if (!oracles.empty()) {
    auto list = oracles::ParseOracleList(oracles);
    if (!list.ok()) return ReportError(list.status());
    o.oracles = *list;
    o.oracles_explicit = true;
  }
  if (!budget.empty())
    if (Status st = ParseBudget(budget, o); !st.ok()) return ReportError(st);
  if (!shard.empty()) {
    auto k = checker::ParseShard(shard);
    if (!k.ok()) return ReportError(k.status());
    o.shard = *k;
  }
  if (all_points && !from_mark.empty()) return ReportError(BadInput("--all-points and --from-mark NAME conflict"));
  if (!from_mark.empty()) o.from_mark = from_mark;
  o.default_from_mark = !all_points && app.count("--from-mark") == 0;
  if (!expect.empty()) o.expect = expect;
  o.fsck.timeout = std::chrono::milliseconds(static_cast<int64_t>(fsck_timeout * 1000));

  bool tty = StderrIsTty();
  // The lab VM's boots for the mount oracle take seconds each: say when one starts or a guest dies
  // (not the per-image lines).
  o.vm_mount.on_progress = [tty](std::string_view s) {
    if (s.starts_with("lab VM") || s.starts_with("the guest died"))
      fmt::print(stderr, "{}mount oracle: {}\n", tty ? "\r" : "", s);
  };
  double last_plain = -1;
  auto progress = [&](const checker::Progress& pr) {
    double rate = pr.seconds > 0 ? pr.checked / pr.seconds : 0;
    double left = rate > 0 && pr.generated >= pr.checked ? (pr.generated - pr.checked) / rate : -1;
    std::string covered = pr.covered > pr.checked ? fmt::format(" ({:.3g} states covered)", pr.covered) : "";
    if (tty) {
      int width = 30;
      int filled = pr.generated ? static_cast<int>(width * std::min(1.0, double(pr.checked) / pr.generated)) : 0;
      fmt::print(stderr, "\r[{}{}] {}/{} states{}, {} violations, {:.1f}/s, {} left ",
                 std::string(filled, '#'), std::string(width - filled, '.'), pr.checked, pr.generated, covered,
                 pr.violations, rate, Clock(left));
    } else if (pr.seconds - last_plain >= 10 || (pr.checked == pr.generated && last_plain < pr.seconds)) {
      last_plain = pr.seconds;
      fmt::print(stderr, "checked {}/{} states{}, {} violations, {:.1f} states/s, {} left\n", pr.checked,
                 pr.generated, covered, pr.violations, rate, Clock(left));
    }
  };
  auto r = checker::RunCheck(o, progress);
  if (tty) fmt::print(stderr, "\n");
  if (!r.ok()) {
    int rc = ReportError(r.status());
    if (r.status().code() == Code::kInterrupted && !o.db.empty())
      fmt::print(stderr, "torn: the states checked so far are in {}; run the same command to resume\n", o.db);
    return rc;
  }
  r->points = points;
  if (r->from_mark_default)
    fmt::print(stderr, "torn: crash points start at mark '{}' (the default; --all-points to check inside mkfs)\n",
               *r->from_mark);
  if (!junit.empty()) {
    if (Status st = WriteFileAtomic(junit, report::ResultToJunit(*r)); !st.ok())
      return ReportError(st.with_context("the JUnit report"));
  }
  // The triage: signatures, and the first few minimized and explained (stored with the run).
  std::optional<triage::Triage> triaged;
  if (!r->violations.empty()) {
    auto t = TriageCheck(o, *r, triage_options);
    if (!t.ok()) return ReportError(t.status().with_context("triage"));
    triaged = std::move(t).value();
  }
  if (json) {
    nlohmann::json j = report::ResultToJson(*r);
    j["signatures"] = triaged ? triage::ToJson(*triaged) : nlohmann::json::array();
    fmt::print("{}\n", j.dump(2));
  } else {
    report::SummaryOptions so;
    so.all = all;
    so.trace_arg = o.trace;
    if (!r->violations.empty()) AddTraceFacts(o.trace, so);
    if (triaged) {
      so.signatures = triage::ToText(*triaged, {.all = all});
      so.signatures_explained = triage_options.minimize > 0;
    }
    fmt::print("{}", report::ResultToText(*r, so));
  }
  return r->violations.empty() ? kExitOk : kExitViolations;
}

}  // namespace torn::cli
