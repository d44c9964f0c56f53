#include "campaign/shrink.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "base/interrupt.h"
#include "base/temp_file.h"
#include "campaign/campaign_db.h"
#include "campaign/record_batch.h"
#include "checker/run.h"
#include "checker/setup.h"
#include "store/stmt.h"
#include "triage/triage.h"
#include "workload/op.h"

namespace torn::campaign {
namespace fs = std::filesystem;
using store::Stmt;

namespace {

// A candidate recorded and checked: whether it still fails with the signature.
struct Tried {
  bool fails = false;
  std::optional<checker::CheckResult> check;
  checker::CheckOptions options;
};

// The workload `w` without operation `drop`.
std::string Without(const workload::Workload& w, size_t drop) {
  workload::Workload out = w;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(drop));
  return workload::Print(out);
}

// Records `texts` in one boot (traces under `dir`), checks each that ran every operation, and says
// which fail with `signature`.
Result<std::vector<Tried>> TryAll(const CampaignOptions& o, const std::vector<std::string>& texts,
                                  const std::string& dir, const std::string& signature, bool mount) {
  std::vector<BatchItem> items;
  for (size_t k = 0; k < texts.size(); ++k) items.push_back({texts[k], dir + "/c" + std::to_string(k)});
  TORN_ASSIGN_OR_RETURN(BatchResult rec, RecordBatch(CampaignBatchOptions(o), items));
  std::vector<Tried> out(texts.size());
  for (size_t k = 0; k < texts.size(); ++k) {
    const ItemResult& it = rec.items[k];
    if (!it.status.ok() || it.runner_exit != 0 || !it.op_failures.empty()) continue;
    out[k].options = CampaignCheckOptions(o, items[k].out, mount);
    auto check = checker::RunCheck(out[k].options);
    if (!check.ok()) {
      if (check.status().code() == Code::kInterrupted) return check.status();
      continue;
    }
    for (const auto& v : check->violations)
      if (FindingSignature(v) == signature) out[k].fails = true;
    out[k].check = std::move(check).value();
  }
  return out;
}

// Triage of the signature's violations in `t`'s check: the minimal crash state, as JSON text.
std::string MinimalState(const Tried& t, const std::string& signature, const std::string& trace, std::string& note) {
  checker::CheckResult only = *t.check;
  std::erase_if(only.violations, [&](const checker::Violation& v) { return FindingSignature(v) != signature; });
  auto setup = checker::Prepare(checker::SetupOptionsOf(t.options));
  if (!setup.ok()) {
    note = "crash state not minimized: " + setup.status().message();
    return "";
  }
  triage::TriageOptions to;
  to.minimize = 1;
  to.time_budget = std::chrono::minutes(2);
  to.trace_arg = trace;
  to.image_bytes = setup->image_bytes;
  to.judge.fsck = t.options.fsck;
  to.judge.scratch_dir = t.options.scratch_dir;
  to.judge.host_mount = t.options.host_mount;
  to.judge.kernel_replays_fast_commits = t.options.kernel_replays_fast_commits;
  auto tr = triage::RunTriage(only, *setup, to);
  if (!tr.ok()) {
    note = "crash state not minimized: " + tr.status().message();
    return "";
  }
  for (const auto& g : tr->groups)
    if (g.minimization) return g.minimization->dump();
  note = tr->groups.empty() ? "crash state not minimized: no violation left" : "crash state not minimized: " +
                                                                                   tr->groups.front().note;
  return "";
}

Status StoreShrunk(const std::string& db_path, const Shrunk& s) {
  TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenCampaignDb(db_path));
  Stmt put(db->get(),
           "INSERT OR REPLACE INTO shrunk(signature, from_workload, from_ops, text, ops, rounds, recorded, trace, "
           "minimization, note, seconds) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  put.Bind(1, s.signature).Bind(2, s.from_workload).Bind(3, static_cast<int64_t>(s.from_ops)).Bind(4, s.text);
  put.Bind(5, static_cast<int64_t>(s.ops)).Bind(6, static_cast<int64_t>(s.rounds));
  put.Bind(7, static_cast<int64_t>(s.recorded)).Bind(8, s.trace).Bind(9, s.minimization).Bind(10, s.note);
  put.Bind(11, std::to_string(s.seconds));
  if (put.Step() != SQLITE_DONE) return IoError(db_path + ": cannot store the shrunk finding: " + sqlite3_errmsg(db->get()));
  return Status::Ok();
}

}  // namespace

Result<Shrunk> ShrinkFinding(const CampaignOptions& o, const std::string& signature, const std::string& dir) {
  auto t0 = std::chrono::steady_clock::now();
  auto progress = [&](const std::string& s) {
    if (o.on_progress) o.on_progress(s);
  };
  Shrunk s;
  s.signature = signature;
  bool mount = false;
  {
    TORN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenReadOnly(o.db));
    Stmt q(db->get(),
           "SELECT w.id, w.text, f.oracle FROM findings f JOIN workloads w ON w.id = f.workload WHERE f.signature = ? "
           "ORDER BY w.id LIMIT 1");
    q.Bind(1, signature);
    if (q.Step() != SQLITE_ROW) return BadInput(o.db + ": no finding with the signature '" + signature + "'");
    s.from_workload = q.Int(0);
    s.text = q.Text(1);
    mount = q.Text(2) == "mount";  // found by the mount oracle: the candidates are mounted too
  }
  TORN_ASSIGN_OR_RETURN(workload::Workload w, workload::Parse(s.text));
  s.from_ops = s.ops = w.size();
  TORN_ASSIGN_OR_RETURN(TempDir scratch, TempDir::Create("torn-shrink-", dir));

  // Round 1 records the workload itself too: it is the fallback when no operation can go, and a
  // check that the signature comes back on a new recording.
  std::optional<Tried> best;
  bool first = true;
  for (;;) {
    TORN_RETURN_IF_ERROR(CheckInterrupted());
    std::vector<std::string> texts;
    if (first) texts.push_back(workload::Print(w));
    for (size_t i = 0; i < w.size(); ++i) texts.push_back(Without(w, i));
    std::string round_dir = scratch.path() + "/r" + std::to_string(++s.rounds);
    progress("shrinking '" + signature + "': round " + std::to_string(s.rounds) + ", " + std::to_string(w.size()) +
             " operations, " + std::to_string(texts.size()) + " candidates in one boot");
    TORN_ASSIGN_OR_RETURN(std::vector<Tried> tried, TryAll(o, texts, round_dir, signature, mount));
    s.recorded += texts.size();
    size_t from = 0;
    if (first) {
      if (tried[0].fails) best = std::move(tried[0]);
      from = 1;
      first = false;
    }
    std::optional<size_t> pick;
    for (size_t k = from; k < tried.size() && !pick; ++k)
      if (tried[k].fails) pick = k;
    if (!pick) break;
    TORN_ASSIGN_OR_RETURN(w, workload::Parse(texts[*pick]));
    best = std::move(tried[*pick]);
  }
  if (!best) return Unavailable("the signature '" + signature + "' did not come back on a new recording of workload " +
                                std::to_string(s.from_workload) + " nor of any smaller one (" +
                                std::to_string(s.recorded) + " recorded)");
  s.text = workload::Print(w);
  s.ops = w.size();
  // Keep the minimal workload's trace (its last recording) beside the campaign's traces.
  s.trace = dir + "/shrunk-w" + std::to_string(s.from_workload);
  std::error_code ec;
  fs::remove_all(s.trace, ec);
  fs::rename(best->options.trace, s.trace, ec);
  if (ec) return IoError(s.trace + ": " + ec.message());
  best->options.trace = s.trace;
  s.minimization = MinimalState(*best, signature, s.trace, s.note);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  TORN_RETURN_IF_ERROR(StoreShrunk(o.db, s));
  progress("shrunk '" + signature + "': " + std::to_string(s.from_ops) + " operations -> " + std::to_string(s.ops) +
           " in " + std::to_string(s.rounds) + " rounds");
  return s;
}

Result<size_t> ShrinkFindings(const CampaignOptions& o, size_t n) {
  TORN_ASSIGN_OR_RETURN(CampaignResult c, ReadCampaign(o.db));
  std::string dir = o.dir.empty() ? o.db + ".traces" : o.dir;
  size_t done = 0;
  for (const Finding& f : c.findings) {
    if (done >= n) break;
    if (f.shrunk) continue;
    auto s = ShrinkFinding(o, f.signature, dir);
    if (!s.ok()) {
      if (s.status().code() == Code::kInterrupted) return s.status();
      if (o.on_progress) o.on_progress("not shrunk: " + s.status().message());
    }
    ++done;
  }
  return done;
}

}  // namespace torn::campaign
