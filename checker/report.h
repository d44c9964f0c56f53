// Reports of a check: the contract's JSON (DESIGN.md, "Command line") and JUnit XML for CI.
//
// JSON: {"trace", "model", "points", "oracles": [...], "states": {"possible", "generated", "checked"},
//        "distinct_images", "resumed", "strategy", "budget_cut", "seconds", "notes": [...],
//        "violations": [{"id", "oracle", "state", "crash_point", "dropped": [entry indices], "torn":
//        [{"entry", "sectors"}], "detail"}]}
// "possible" is a number when it fits in 64 bits, else its exact decimal digits as a string.
// JUnit: one <testsuite name="torn check"> with one <testcase> per crash point (name "crash point N",
// classname "torn.<model>"); a crash point with violations gets one <failure> whose message counts
// them and whose text lists each: state, oracle, dropped entries, detail.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "checker/run.h"

namespace torn::checker {

nlohmann::json ResultToJson(const CheckResult& r);
std::string ResultToJunit(const CheckResult& r);
// Text made safe for an XML attribute or element (also used by torn gate's JUnit report).
std::string XmlEscape(const std::string& s);

}  // namespace torn::checker
