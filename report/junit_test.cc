// The JUnit writer (junit.h): escaping of markup, control characters and bad UTF-8, the counters,
// an empty suite; every output is checked well-formed by xmllint, as CI tools will read it.
#include "report/junit.h"

#include <fstream>

#include <gtest/gtest.h>

#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn::report {
namespace {

// xmllint --noout on the text: empty when well-formed, else its complaint.
std::string Lint(const std::string& xml) {
  auto dir = TempDir::Create("torn-junit-");
  if (!dir.ok()) return "no temporary directory";
  std::string path = dir->path() + "/report.xml";
  std::ofstream(path) << xml;
  auto r = RunChild({.argv = {"xmllint", "--noout", path}});
  if (!r.ok()) return "xmllint did not run: " + r.status().message();
  return r->status.success() ? "" : r->output;
}

TEST(Junit, EscapesMarkupCharacters) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'd"), "a&lt;b&gt;&amp;&quot;c&apos;d");
  EXPECT_EQ(XmlEscape("line\n\ttab\rcr"), "line\n\ttab\rcr");
}

TEST(Junit, ReplacesControlCharactersAndBadUtf8) {
  EXPECT_EQ(XmlEscape(std::string("a\x01" "b\x1b[0m\x7f", 8)), "a?b?[0m\x7f");
  EXPECT_EQ(XmlEscape(std::string("nul\0end", 7)), "nul?end");
  EXPECT_EQ(XmlEscape("caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x92\xa5"), "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x92\xa5");
  EXPECT_EQ(XmlEscape("\xff\xfe"), "??");              // never valid
  EXPECT_EQ(XmlEscape("\xc3"), "?");                   // cut short
  EXPECT_EQ(XmlEscape("\xc0\xaf"), "??");              // overlong '/'
  EXPECT_EQ(XmlEscape("\xed\xa0\x80"), "???");         // a surrogate
  EXPECT_EQ(XmlEscape("\xef\xbf\xbe"), "???");         // U+FFFE, not an XML character
}

TEST(Junit, EmptySuiteIsWellFormed) {
  std::string x = WriteJunit({.name = "torn check"});
  EXPECT_NE(x.find("<testsuite name=\"torn check\" tests=\"0\" failures=\"0\" errors=\"0\" time=\"0.000\">"),
            std::string::npos)
      << x;
  EXPECT_EQ(x.find("<properties>"), std::string::npos) << x;
  EXPECT_EQ(Lint(x), "");
}

TEST(Junit, CountsFailingCasesAndEscapesEverything) {
  std::string nasty = "<e2fsck> \"said\" & 'left' \x01\x02 \xff";
  JunitSuite s{.name = "torn <check>", .time = 1.5};
  s.properties = {{"trace", "/tmp/a&b\"c"}, {"model", nasty}};
  s.cases.push_back({.name = "crash point 1", .classname = "torn.fua-barrier"});
  s.cases.push_back({.name = "crash point 2", .classname = "torn.fua-barrier", .time = 0.25,
                     .failures = {{"2 violations", "violation", nasty + "\nsecond line\n"},
                                  {"another", "violation", "]]> not a CDATA end"}}});
  s.cases.push_back({.name = nasty, .classname = "torn.x", .failures = {{nasty, nasty, nasty}}});
  std::string x = WriteJunit(s);
  EXPECT_NE(x.find("tests=\"3\" failures=\"2\" errors=\"0\" time=\"1.500\""), std::string::npos) << x;
  EXPECT_NE(x.find("<property name=\"trace\" value=\"/tmp/a&amp;b&quot;c\"/>"), std::string::npos) << x;
  EXPECT_NE(x.find("<testcase classname=\"torn.fua-barrier\" name=\"crash point 1\"></testcase>"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("name=\"crash point 2\" time=\"0.250\">"), std::string::npos) << x;
  EXPECT_NE(x.find("&lt;e2fsck&gt; &quot;said&quot; &amp; &apos;left&apos; ?? ?"), std::string::npos) << x;
  EXPECT_NE(x.find("]]&gt; not a CDATA end"), std::string::npos) << x;
  EXPECT_EQ(Lint(x), "");
}

}  // namespace
}  // namespace torn::report
