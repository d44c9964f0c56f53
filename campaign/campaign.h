// `torn fuzz`: a campaign over the bounded exhaustive workloads (generate.h), recorded many per boot
// (record_batch.h; the next boot records while this one's workloads are checked), each trace checked
// by torn check's engine (checker/run.h: classes on, fsck, data and ordering oracles; the data oracle
// holds the runner's promises, docs/fuzz.md), findings kept in a SQLite campaign database:
//
//   config(key, value)        fs, mkfs and mount options, max length, shard ('' for a whole
//                             campaign; 'K/N' for a shard, with every and workloads, the selection
//                             the split is made of): a database resumes only the campaign (and the
//                             shard) it was made for
//   workloads(id, text, status, detail, possible, covered, judged, violations, record_seconds,
//             check_seconds, trace)
//                             one row per workload done, id = its number in the generation order;
//                             status ok | violations | record-failed | check-failed
//   findings(workload, signature, oracle, steps, states, detail, crash_point, dropped)
//                             per workload, its failing states grouped by signature
//   shrunk(signature, from_workload, from_ops, text, ops, rounds, recorded, trace, minimization,
//          note, seconds)     a finding shrunk (shrink.h), one row per signature; not merged
//
// Invariants: 1. a workload's row and its findings are written in one transaction, after its check
// finished, so a campaign killed at any moment (kill -9 included) resumes with no workload lost or
// counted twice; 2. the workloads a run considers are a fixed function of the options (ids in order,
// every K-th, the first N), so a resumed run does exactly what was left.
// Shards (`torn fuzz --shard K/N`, docs/scale.md): the workloads the options select, in order, are
// numbered 0, 1, 2...; shard K of N does those whose number mod N is K-1 (interleaved: the cost of a
// workload grows along the generation order, with its length). MergeCampaigns joins the shards'
// databases into the whole campaign's.
// Signatures (triage/signature.h) lose the operation numbers of mark names ('op7-fsync' -> 'fsync'),
// so the same failure after different workloads reads as one; the steps are kept beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "campaign/record_batch.h"
#include "checker/run.h"
#include "checker/shard.h"
#include "lab/vm.h"

namespace torn::campaign {

struct CampaignOptions {
  std::string db;                 // required
  std::string dir;                // failing workloads' traces go to DIR/w<id>; empty: beside db
  std::string fs = "ext4", mkfs_opts, mount_opts;
  int max_length = 2;
  uint64_t every = 1;             // consider ids 0, K, 2K, ...
  uint64_t max_workloads = 0;     // consider at most N of them (0: all)
  size_t per_boot = 16;           // workloads recorded per boot of the lab VM
  uint64_t states_per_workload = 2000;  // torn check's budget in states (groups) for one trace
  std::chrono::seconds check_time{120}; // and in time
  // The mount oracle (the lab VM's kernel mounts the judged states and walks the tree) on a sample:
  // the workloads whose id is a multiple of K (0: none). A boot more for each sampled workload.
  uint64_t mount_every = 50;
  // The mount oracle, and the kernel's journal replay of fast_commit states (oracles/kernel_replay.h),
  // on this machine's kernel rather than the lab VM's (--host-mount): much faster for a fast_commit
  // campaign, whose every state needs it, but judged by another kernel than the one that recorded.
  bool host_mount = false;
  std::chrono::seconds time_budget{0};  // the whole run (0: none); no workload check starts after it
  checker::Shard shard;           // 1/1: the whole campaign
  int jobs = 1;
  std::string kernel_image;
  lab::Accel accel = lab::Accel::kAuto;
  std::function<void(std::string_view)> on_progress;
};

// A finding shrunk (shrink.h): its smallest workload and crash state.
struct Shrunk {
  std::string signature;
  int64_t from_workload = -1;
  size_t from_ops = 0, ops = 0;    // operations before and after
  std::string text;                // the minimal workload (workload/op.h)
  size_t rounds = 0, recorded = 0; // rounds run, candidates recorded (one boot per round)
  std::string trace;               // the minimal workload's trace: DIR/shrunk-w<first workload>
  std::string minimization;        // triage's JSON of the minimal crash state (triage::MinimizedToJson)
  std::string note;                // why the crash state was not minimized, when it was not
  double seconds = 0;
};

struct Finding {
  std::string signature;
  std::string oracle;
  uint64_t workloads = 0;        // distinct workloads with it
  uint64_t states = 0;           // failing states with it (judged)
  int64_t first_workload = -1;   // the smallest id: the reproducer
  std::string first_text, steps, detail, trace;
  std::optional<Shrunk> shrunk;  // torn fuzz --shrink
};

struct CampaignResult {
  uint64_t considered = 0;       // workloads the options select
  uint64_t done = 0;             // of those, done (this run and before)
  uint64_t this_run = 0;         // done in this run
  uint64_t record_failed = 0, check_failed = 0, with_violations = 0;  // over the whole campaign
  uint64_t boots = 0;
  double possible = 0, covered = 0;  // crash states over the workloads done (approximate sums)
  uint64_t judged = 0;           // states judged by the oracles
  double seconds = 0, record_seconds = 0, check_seconds = 0;  // this run
  std::vector<Finding> findings; // by signature, most workloads first
  bool budget_cut = false;
  std::map<std::string, std::string> config;  // the database's config table (shard '' when whole)
};

Result<CampaignResult> RunCampaign(const CampaignOptions& options);

// How the campaign records (record_batch.h): its file system, options, kernel.
BatchOptions CampaignBatchOptions(const CampaignOptions& o);
// The check the campaign runs on a workload's trace (torn check's defaults, the campaign's budgets).
// With `mount`, the mount oracle too (in the lab VM: one more boot for that trace's judged states).
checker::CheckOptions CampaignCheckOptions(const CampaignOptions& o, const std::string& trace, bool mount);
// Whether workload `id` is in the mount oracle's sample (mount_every).
bool MountSampled(const CampaignOptions& o, int64_t id);
// A violation's campaign signature: its signature (else its detail) through CampaignSignature.
std::string FindingSignature(const checker::Violation& v);

// What a campaign database holds (the fields of CampaignResult that are the whole campaign's; the
// this-run figures are 0). Refuses a file that is not a campaign database.
Result<CampaignResult> ReadCampaign(const std::string& db);

// True when the file is a campaign database (it has the workloads table); false for a check's store.
bool IsCampaignDb(const std::string& path);

// Merges the databases of a campaign's shards (torn fuzz --shard K/N --db IN) into OUT: every
// workload row and finding, the failing workloads' traces copied to OUT.traces/w<ID>, the config with
// no shard (the whole campaign's). Refused, naming the file and the shard: a file that is not a
// campaign shard, a shard of another campaign (options differ), a shard given twice or of a split
// into another N, missing shards, a shard that did not finish (rerun it: it resumes), OUT holding
// another campaign or other rows. Idempotent: when OUT already holds exactly these rows nothing is
// written; OUT among the inputs is skipped.
struct CampaignMerge {
  std::vector<std::string> inputs;  // one line per input: file, shard, workloads
  uint64_t workloads = 0;           // rows in OUT
  bool unchanged = false;
};
Result<CampaignMerge> MergeCampaigns(const std::string& out, const std::vector<std::string>& inputs);

// 'op7-fsync' -> 'fsync' inside a signature.
std::string CampaignSignature(std::string_view signature);

}  // namespace torn::campaign
