// Reports of a check: the contract's JSON (DESIGN.md, "Command line") and JUnit XML for CI.
//
// JSON: {"trace", "model", "points", "oracles": [...], "shard": "K/N" (a shard's run only),
//        "states": {"possible", "generated", "checked", "classes", "judged", "covered"},
//        "classes": bool, "reductions": [...],
//        "windows": [{"segment", "first", "last", "possible", "fixed", "generated", "checked", "classes",
//        "covered"}], "distinct_images", "resumed", "strategy", "budget_cut",
//        "seconds", "notes": [...],
//        "violations": [{"id", "oracle", "state", "crash_point", "dropped": [entry indices], "torn":
//        [{"entry", "sectors"}], "covers", "class", "detail", "signature"}]}
// (torn check adds "signatures": the triage, triage/triage.h and docs/triage.md.)
// "possible", "classes", "judged", "covered" and "covers" are numbers when they fit in 64 bits, else
// their exact decimal digits as strings. "classes"/"judged" appear with classes only; "covered" ==
// "possible" means every legal state lies in a judged class (or was judged itself).
// JUnit (written by report/junit.h): one <testsuite name="torn check"> with one <testcase> per crash point (name "crash point N",
// classname "torn.<model>"); a crash point with violations gets one <failure> whose message counts
// them and whose text lists each: state, oracle, dropped entries, detail.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checker/run.h"

namespace torn::report {

nlohmann::json ResultToJson(const checker::CheckResult& r);
std::string ResultToJunit(const checker::CheckResult& r);
// Pieces shared with torn gate's reports, so both say things the same way (the XML writer itself is
// report/junit.h): "[3,7,9]" for a list of entry indices;
std::string EntryList(const std::vector<size_t>& entries);
// a state count given as exact decimal digits: a JSON number when it fits in 64 bits, else the string.
nlohmann::json CountJson(const std::string& decimal);

}  // namespace torn::report
