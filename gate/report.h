// Reports of a gate run, following torn check's (report/report.h).
//
// JSON: {"kernel", "loop_mode", "inject", "outer_fs" (ext4|xfs|btrfs), "workload", "model", "strategy", "entries",
//        "states": {"possible", "generated", "checked", "covered"}  (crash states of the lower device:
//                  possible by the model, groups generated, states judged, states they stand for),
//        "classes": {"on": bool, "outer", "inner"}  (classes judged by e2fsck at each level),
//        "reductions": [...],  (what the outer reduction fixed, one line each; for an xfs or btrfs outer
//                               "outer classes: off (xfs): ...": lower states judged one by one)
//        "distinct_images": {"lower", "inner"}  (images judged by e2fsck: one per class),
//        "manifests": {"inner": [marks], "outer": [marks]},
//        "seconds": {"boot", "record", "check", "total"}, "notes": [...],
//        "violations": [{"id", "level": "outer"|"inner", "oracle", "state", "segment", "crash_point",
//                        "dropped": [entry indices of the lower trace], "covers", "class",
//                        "inner_class", "detail"}]}
// "possible", "covered" and "covers" are numbers when they fit in 64 bits, else their exact decimal
// digits as strings (report::CountJson); "covered" == "possible": every lower state lies in a judged
// class. "class"/"inner_class" (hex keys) appear with classes, "inner_class" when the inner level was
// reached.
// JUnit: one <testsuite name="torn gate"> with one <testcase> per crash-point group (a segment of the
// lower device: the crash points between two barriers; name "segment N (entries A-B after barrier
// E)", classname "torn.gate.<loop mode>"); a group with violations gets one <failure> listing every
// failing state: its id, level, oracle, crash point, dropped entries and detail. The suite's
// properties carry the coverage (states possible, covered, checked; classes per level).
// Text (the default on stdout), in torn check's style (report/summary.h): header with the coverage and
// the classes per level, failing states by level and oracle, the segments with the most failing
// states, the first 10 violations with their dropped lists shortened, a reproduce command for the
// first outer-level one when the lower trace was kept (--keep-trace), and where to find the rest;
// `all` lists every violation, one line each. The last line is "PASS: 0 violations in N lower crash
// states" (N the states covered) or "FAIL: V violations in F of C lower crash states judged, standing
// for S of the N states covered".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "gate/gate.h"

namespace torn::gate {

nlohmann::json GateToJson(const GateResult& r);
std::string GateToJunit(const GateResult& r);

struct GateTextOptions {
  bool all = false;
  std::string kept_trace;    // the lower trace directory, when kept: for the reproduce command
  uint64_t image_bytes = 0;  // the size of the lower images the gate built
};
std::string GateToText(const GateResult& r, const GateTextOptions& options);

}  // namespace torn::gate
