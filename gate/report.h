// Reports of a gate run, following torn check's (report/report.h).
//
// JSON: {"kernel", "loop_mode", "inject", "workload", "model", "strategy", "entries",
//        "states": {"possible", "generated", "checked"}    (crash states of the lower device),
//        "distinct_images": {"lower", "inner"}, "manifests": {"inner": [marks], "outer": [marks]},
//        "seconds": {"boot", "record", "check", "total"}, "notes": [...],
//        "violations": [{"id", "level": "outer"|"inner", "oracle", "state", "segment", "crash_point",
//                        "dropped": [entry indices of the lower trace], "detail"}]}
// JUnit: one <testsuite name="torn gate"> with one <testcase> per crash-point group (a segment of the
// lower device: the crash points between two barriers; name "segment N (entries A-B after barrier
// E)", classname "torn.gate.<loop mode>"); a group with violations gets one <failure> listing every
// failing state: its id, level, oracle, crash point, dropped entries and detail.
// Text (the default on stdout), in torn check's style (report/summary.h): header, failing states by
// level and oracle, the segments with the most failing states, the first 10 violations with their
// dropped lists shortened, a reproduce command for the first outer-level one when the lower trace was
// kept (--keep-trace), and where to find the rest; `all` lists every violation, one line each.
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
