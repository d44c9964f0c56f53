// Bounded exhaustive workloads (CrashMonkey's Ace, OSDI'18: most crash-consistency bugs need one to
// three operations on a fresh file system and a crash after an fsync-family call).
//
// Every workload is the setup (kSetup: a directory and two files with data, made durable by sync)
// followed by 1..max_length steps; a step is a core operation on the files of the setup (or on new
// names: f2, d0/f3, s0, d1) and a persistence operation on what it touched: fsync and fdatasync of
// the file, fsync of its parent directory, sync. Only valid sequences are generated (the generator
// keeps the names that exist, so no step fails). The order is fixed: all 1-step workloads, then all
// 2-step ones, each level in the order the core operations and files are listed, so workload number
// n is the same in every campaign with the same options (a campaign database resumes by number).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace torn::campaign {

inline constexpr const char* kSetup =
    "mkdir d0\ncreat f0\nwrite f0 0 8192\ncreat d0/f1\nwrite d0/f1 0 4096\nsync\n";

struct GenerateOptions {
  int max_length = 2;  // steps after the setup: 1..3
};

// All workloads, in order (texts in the workload language, workload/op.h, setup included).
std::vector<std::string> GenerateWorkloads(const GenerateOptions& options);

// The core operation kinds of a workload's steps, e.g. "rename+fsync-dir, write+fdatasync": what a
// finding's signature names besides the oracle's words.
std::string StepsOf(const std::string& workload);

}  // namespace torn::campaign
