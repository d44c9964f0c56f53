// torn report --db FILE --html OUT [--run N] [--trace TRACE]
//
// One self-contained HTML page (report/html.h) from a torn check database: the run's result rebuilt
// from the database alone (checker/result.h ResultFromStore, what torn merge prints), the triage's
// minimizations stored beside it (store/triage_store.h), and the trace the run names, read again for
// the timeline. The trace is checked against the log digest the run stored, so a page never pairs a
// result with another trace's writes.
// Exit 0: written (whatever the check found); 2: bad input (no such database or run, the trace missing
// or not the run's), usage; 130: interrupted.
#include <filesystem>

#include <fmt/core.h>

#include "base/file_io.h"
#include "base/hash.h"
#include "checker/result.h"
#include "checker/state_image.h"
#include "cli/command.h"
#include "report/html.h"
#include "store/store.h"
#include "store/triage_store.h"
#include "trace/trace_dir.h"
#include "triage/triage.h"

namespace torn::cli {
namespace {

// The run to show: --run N, else the database's only run; several runs are listed, not guessed.
Result<store::StoredRun> PickRun(store::Store& db, std::optional<int64_t> wanted) {
  TORN_ASSIGN_OR_RETURN(std::vector<store::StoredRun> runs, db.Runs());
  if (runs.empty()) return BadInput(db.path() + ": holds no run of torn check");
  for (const auto& r : runs)
    if (wanted ? r.id == *wanted : runs.size() == 1) return r;
  std::string list;
  for (const auto& r : runs)
    list += fmt::format("\n  run {}: {}, {} states{}", r.id, r.trace.path, r.states, r.finished ? "" : " (unfinished)");
  if (wanted) return BadInput(fmt::format("{}: no run {}; it holds:{}", db.path(), *wanted, list));
  return BadInput(db.path() + " holds several runs; pick one with --run N:" + list);
}

Result<std::string> LogSha256(const std::string& trace, const trace::Log& log) {
  auto description = trace::ReadDescription(trace);
  if (description.ok() && description->contains("log_sha256") && (*description)["log_sha256"].is_string())
    return (*description)["log_sha256"].get<std::string>();
  return HashFdHex(HashAlgo::kSha256, log.fd(), log.file_bytes());
}

Result<report::HtmlReport> Load(const std::string& db_path, std::optional<int64_t> run_id, std::string trace) {
  if (!std::filesystem::exists(db_path)) return BadInput(db_path + ": no such database (torn check TRACE --db FILE writes one)");
  TORN_ASSIGN_OR_RETURN(store::Store db, store::Store::Open(db_path));
  TORN_ASSIGN_OR_RETURN(store::StoredRun run, PickRun(db, run_id));
  report::HtmlReport rep;
  TORN_ASSIGN_OR_RETURN(rep.result, checker::ResultFromStore(db, run));
  rep.source = fmt::format("{}, run {}", db_path, run.id);

  const bool given = !trace.empty();
  if (!given) trace = run.trace.path;
  auto log = trace::Log::Open(trace);
  if (!log.ok())
    return log.status().with_context(fmt::format("the trace of {} run {}{}", db_path, run.id,
                                                 given ? "" : " (--trace PATH when it has moved)"));
  TORN_ASSIGN_OR_RETURN(std::string sha, LogSha256(trace, *log));
  if (!run.trace.log_sha256.empty() && sha != run.trace.log_sha256)
    return BadInput(fmt::format("{}: not the trace {} run {} checked (its log's SHA-256 is {}, the run's {})", trace,
                                db_path, run.id, sha, run.trace.log_sha256));
  auto description = trace::ReadDescription(trace);
  rep.image_bytes =
      checker::ImageBytes(*log, description.ok() ? description->value("device_bytes", uint64_t{0}) : uint64_t{0});
  rep.trace_arg = trace;
  std::string scratch = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "";
  TORN_ASSIGN_OR_RETURN(rep.timeline, report::BuildTimeline(*log, {.model = rep.result.model,
                                                                    .image_bytes = rep.image_bytes,
                                                                    .scratch_dir = scratch}));

  // Signatures from the result itself (the same grouping torn check stored), minimizations from the
  // triage's table when torn check made them.
  rep.signatures = triage::GroupBySignature(rep.result);
  if (!rep.signatures.empty()) {
    TORN_ASSIGN_OR_RETURN(store::TriageStore ts, store::TriageStore::Open(db_path));
    TORN_ASSIGN_OR_RETURN(std::vector<store::StoredMinimized> done, ts.LoadAllMinimized(run.id));
    for (auto& g : rep.signatures) {
      const std::string oracle(oracles::OracleName(g.oracle));
      for (const auto& m : done) {
        if (m.oracle != oracle || m.signature != g.signature || m.state_id != g.representative.state) continue;
        nlohmann::json j = nlohmann::json::parse(m.result_json, nullptr, false);
        if (j.is_object()) g.minimization = std::move(j);
        else g.note = fmt::format("{}: the stored minimization of state {} is damaged", db_path, m.state_id);
      }
    }
  }
  return rep;
}

}  // namespace

int RunReport(std::vector<std::string> args) {
  CLI::App app{
      "Write a torn check database's run as one self-contained HTML page (inline CSS and SVG, no network):\n"
      "the trace as a timeline in log order (writes by file-system region, flushes, FUA writes, marks,\n"
      "the model's barrier windows, jbd2 transactions, failing states per crash point), coverage per\n"
      "window, failing classes per crash point, and each signature with its minimal set, explanation and\n"
      "reproduce command when torn check minimized it (docs/report.md). The trace is read again from the\n"
      "path the run stored (or --trace) and must be the one the run checked.",
      "torn report"};
  std::string db, html, trace;
  std::optional<int64_t> run;
  app.add_option("--db", db, "the database of torn check TRACE --db FILE (or of torn merge)")->required();
  app.add_option("--html", html, "write the page to this file")->required();
  app.add_option("--run", run, "the run to show, when the database holds several");
  app.add_option("--trace", trace, "the trace the run checked, when it is no longer at the path the run stored");
  app.footer("\nExample:\n  torn check corpus/ext4-nobarrier --db check.db; torn report --db check.db --html check.html");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  auto rep = Load(db, run, trace);
  if (!rep.ok()) return ReportError(rep.status());
  if (Status st = WriteFileAtomic(html, report::RenderHtml(*rep)); !st.ok())
    return ReportError(st.with_context("the HTML report " + html));
  size_t minimized = 0;
  for (const auto& g : rep->signatures) minimized += g.minimization.has_value();
  fmt::print(stderr, "torn report: {}: {} entries, {} windows, {} transactions, {} signatures ({} minimized)\n", html,
             rep->timeline.entries.size(), rep->timeline.windows.size(), rep->timeline.transactions.size(),
             rep->signatures.size(), minimized);
  return kExitOk;
}

}  // namespace torn::cli
