// The one JUnit XML writer: torn check's and torn gate's reports fill a JunitSuite, WriteJunit
// renders it. The rule: every string that comes from outside (trace paths, kernel names, e2fsck
// output) goes through XmlEscape, here and nowhere else, so the file is always well-formed XML 1.0.
//
// Layout (what CI tools such as Jenkins and GitLab read):
//   <testsuites><testsuite name tests failures errors="0" time>
//     <properties><property name value/>...</properties>
//     <testcase classname name [time]>[<failure message type>text</failure>...]</testcase>...
//   </testsuite></testsuites>
// `failures` counts the test cases with at least one failure (a case fails once, however many
// failures it lists).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace torn::report {

struct JunitFailure {
  std::string message;
  std::string type = "violation";
  std::string text;
};

struct JunitCase {
  std::string name;
  std::string classname;
  std::optional<double> time;  // seconds; left out when unknown
  std::vector<JunitFailure> failures;
};

struct JunitSuite {
  std::string name;
  double time = 0;  // seconds
  std::vector<std::pair<std::string, std::string>> properties;  // in this order
  std::vector<JunitCase> cases;
};

std::string WriteJunit(const JunitSuite& suite);

// Text made safe for an XML attribute or element: the five markup characters as entities, control
// characters XML 1.0 forbids (all below 0x20 but tab, newline and carriage return) and bytes that are
// not valid UTF-8 as '?'.
std::string XmlEscape(const std::string& s);

}  // namespace torn::report
