// What workload_fuzzer checks on every input, in process (CI and OSS-Fuzz), and the features of the
// workload it feeds libFuzzer's extra counters with. Each check returns "" or what broke, naming the op.
//
// CheckRoundTrip: Parse(Print(w)) == w, and the steps encode back to records that decode to them.
// CheckPromises: runs w with torn's runner (workload/runner.h) under `root` (an empty directory on
// tmpfs) and holds its promise bookkeeping, after every op, to the rules runner.h states:
//   1. every promised path exists in the tree as its kind says; a content promise is the file's current
//      size and md5 (any write downgrades it), an either promise is one of its two contents;
//   2. after sync or syncfs the set is the tree, exactly;
//   3. an op that is not fsync, fdatasync, sync, syncfs or an O_SYNC pwrite never strengthens the set:
//      no new path, no exists or either turned content, a content promise kept only unchanged (the
//      same holds for any op that failed);
//   4. after fsync/fdatasync of a regular file that was promised bound to the same inode, its content
//      is promised; after fsync of a directory, its files and subdirectories are promised;
//   5. the manifest lines of the set (ManifestLines) parse back (recorder/guest_report.h) to as many
//      files and directories as the set holds.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "workload/op.h"

namespace torn::fuzz {

// Receives one feature (a hash) per call; the fuzzer folds it into its counters.
using FeatureSink = std::function<void(uint64_t)>;

std::string CheckRoundTrip(const workload::Workload& w);

// `root` must exist and be empty; it is left holding the workload's tree.
std::string CheckPromises(const workload::Workload& w, const std::string& root, const FeatureSink& feature);

// Features of the decoded workload alone: pairs of consecutive op kinds, each persistence op with the
// core op before it (and whether it acts on what that op touched), each op with the kind of the name
// it acts on (file, directory, symlink, none; for rename the target's too).
void WorkloadFeatures(const workload::Workload& w, const FeatureSink& feature);

// A stable 64-bit hash of a few numbers, the features' currency.
uint64_t Mix(std::initializer_list<uint64_t> parts);

}  // namespace torn::fuzz
