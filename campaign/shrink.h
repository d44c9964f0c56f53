// Shrinking a finding (torn fuzz --shrink N, docs/fuzz.md "Shrinking a finding"): the smallest
// workload that still fails the same way, then the smallest crash state of its trace.
//
// 1. Operations. From the finding's first workload (its smallest id), drop one operation at a time,
//    the setup's included, in order. Each round records every candidate that parses in one boot of
//    the lab VM (record_batch.h) and checks it as the campaign does (campaign.h); the first candidate
//    that ran every operation and fails with the finding's signature (CampaignSignature) becomes the
//    workload, and the next round starts from it. A round with no such candidate ends it: the
//    workload is then 1-minimal in operations (dropping any one loses the signature, or makes an
//    operation fail).
//    Why a candidate with a failed operation is refused: the runner goes on after a failed rename or
//    write, so that candidate is another workload, and its failure would not be the finding's.
//    Why the signature is checked on a new recording each time: two recordings of one workload
//    differ (docs/scale.md), so a signature found once is a fact about that recording only; the
//    last round's recording is the one kept and explained.
// 2. Crash state. The minimal workload's trace is triaged on the signature's violations
//    (triage/triage.h: ddmin over the lost writes, then the explanation of each write left).
//
// The result is stored in the campaign database (table shrunk, one row per signature) and kept with
// the finding: torn fuzz prints the minimal workload, its trace and the minimal crash state.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "campaign/campaign.h"

namespace torn::campaign {


// Shrinks the finding with this signature (its first workload, from the database o.db) with the
// campaign's options; stores and returns the result. `dir` receives the minimal trace.
Result<Shrunk> ShrinkFinding(const CampaignOptions& o, const std::string& signature, const std::string& dir);

// Shrinks the first `n` findings of o.db (most workloads first) not shrunk yet; progress on
// o.on_progress. Returns how many were shrunk now.
Result<size_t> ShrinkFindings(const CampaignOptions& o, size_t n);

}  // namespace torn::campaign
