// torn report --html end to end: torn check corpus/ext4-nobarrier into a database, torn report writes
// its page, and Debian's headless Chromium loads it. Asserted: the page loads with no error (a probe
// script injected at the top of <head> records window errors, failed loads and console.error into a
// DOM element, read back from --dump-dom; Chromium's own console log must be silent), the timeline SVG
// holds one write mark per data write of the trace (torn info --json), clicking a write fills the
// detail box and a signature's button marks its minimal set, and a 1400x1000 screenshot is a real
// picture. Chromium missing is a failure, not a skip: install-deps.sh installs it, and a report
// nobody looked at in a browser is not tested.
// TORN_KEEP_REPORT=DIR keeps the page and the screenshot there, for a person to look at.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

// The value of attribute `name` on the probe element of a dumped DOM ("" when absent).
std::string ProbeAttr(const std::string& dom, const std::string& name) {
  std::smatch m;
  std::regex re("<div id=\"torn-probe\"[^>]*\\s" + name + "=\"([^\"]*)\"");
  return std::regex_search(dom, m, re) ? m[1].str() : "";
}

// Runs before the page's own script: records errors (capture phase: failed loads of any element
// too), then on load clicks the first write and the first signature button and writes what it saw.
constexpr const char* kProbe = R"(<script>
(function(){
  var errors=[], probe=null;
  function record(m){ errors.push(String(m)); if(probe) probe.setAttribute('data-errors', errors.join(' | ')); }
  window.addEventListener('error', function(e){
    record(e.target && e.target!==window ? 'failed load: '+(e.target.src||e.target.href||e.target.tagName) : 'error: '+e.message);
  }, true);
  window.addEventListener('unhandledrejection', function(e){ record('rejection: '+e.reason); });
  var ce=console.error; console.error=function(){ record('console.error: '+Array.prototype.join.call(arguments,' ')); ce.apply(console, arguments); };
  window.addEventListener('load', function(){
    probe=document.createElement('div'); probe.id='torn-probe';
    try {
      var w=document.querySelector('#timeline rect.w');
      w.dispatchEvent(new MouseEvent('click', {bubbles:true}));
      probe.setAttribute('data-first', w.getAttribute('data-e'));
      probe.setAttribute('data-detail', document.getElementById('detail').textContent);
      var b=document.querySelector('button[data-entries]');
      if(b){ b.click(); probe.setAttribute('data-want', b.getAttribute('data-entries'));
             probe.setAttribute('data-marked', String(document.querySelectorAll('#timeline .hl').length)); }
    } catch(e) { record('probe: '+e); }
    probe.setAttribute('data-errors', errors.join(' | '));
    probe.setAttribute('data-done', '1');
    document.body.appendChild(probe);
  });
})();
</script>)";

class HtmlReport : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = FindProgram("chromium");
    ASSERT_FALSE(chromium_.empty()) << "chromium is not installed (scripts/install-deps.sh installs it): the HTML "
                                       "report is tested in a real browser, so this test fails rather than skips";
    auto d = TempDir::Create("torn-html-");
    ASSERT_TRUE(d.ok()) << d.status().message();
    dir_ = std::move(*d);
  }

  // Chromium headless with a profile of its own (no lock shared with another run), output captured.
  RunResult Chromium(std::vector<std::string> args) {
    SpawnOptions o;
    o.argv = {chromium_, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
              "--user-data-dir=" + dir_.path() + "/profile"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.timeout = std::chrono::seconds(120);
    o.capture_limit = 32 << 20;
    auto r = RunChild(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : RunResult{};
  }

  std::string chromium_;
  TempDir dir_;
};

TEST_F(HtmlReport, NobarrierPageLoadsInChromiumWithItsTimeline) {
  const std::string trace = std::string(TORN_SOURCE_DIR) + "/corpus/ext4-nobarrier";
  const std::string db = dir_.path() + "/check.db", page = dir_.path() + "/report.html",
                    png = dir_.path() + "/report.png";

  RunResult info = RunTorn({"info", trace, "--json"});
  ASSERT_TRUE(info.status.success()) << info.output;
  const uint64_t writes = nlohmann::json::parse(info.output.substr(info.output.find('{')))["data_writes"].get<uint64_t>();
  ASSERT_GT(writes, 100u);

  RunResult check = RunTorn({"check", trace, "--budget", "300", "--db", db}, 600);
  ASSERT_EQ(check.status.code, 1) << "ext4-nobarrier has violations\n" << check.output;
  RunResult report = RunTorn({"report", "--db", db, "--html", page});
  ASSERT_TRUE(report.status.success()) << report.output;
  const std::string html = Read(page);

  // Self-contained: nothing to fetch; the page's links point into itself.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(src\s*=|href\s*=\s*"[^#]|@import|url\()")));
  EXPECT_EQ(Count(html, "<rect class=\"w "), writes);
  EXPECT_NE(html.find("Coverage per window"), std::string::npos);
  EXPECT_NE(html.find("Failing classes per crash point"), std::string::npos);
  EXPECT_NE(html.find("reproduce:"), std::string::npos) << "torn check minimized signatures into the database";

  // The page with the probe, as Chromium's DOM after load.
  std::string probed = html;
  probed.insert(probed.find("<head>") + 6, kProbe);
  const std::string probed_path = dir_.path() + "/probed.html";
  std::ofstream(probed_path) << probed;
  RunResult dump = Chromium({"--dump-dom", "file://" + probed_path});
  ASSERT_TRUE(dump.status.success()) << dump.status.describe() << "\n" << dump.output.substr(0, 4000);
  const std::string& dom = dump.output;  // stdout (the DOM) and stderr (Chromium's log) merged
  ASSERT_EQ(ProbeAttr(dom, "data-done"), "1") << "the probe did not run: " << dom.substr(0, 4000);
  EXPECT_EQ(ProbeAttr(dom, "data-errors"), "");
  std::smatch console;
  EXPECT_FALSE(std::regex_search(dom, console, std::regex(":CONSOLE[^\n]*"))) << console.str();

  EXPECT_NE(dom.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_EQ(Count(dom, "<rect class=\"w "), writes) << "one write mark per data write of the trace";
  EXPECT_EQ(Count(dom, "<g class=\"mk\""), 6u) << "the trace's six marks";
  EXPECT_GE(Count(dom, "<g class=\"tx"), 6u) << "its six jbd2 transactions";
  // Clicking the first write shows what it is; the first signature's button marks its minimal set.
  EXPECT_TRUE(ProbeAttr(dom, "data-detail").starts_with("entry " + ProbeAttr(dom, "data-first") + ": write"))
      << ProbeAttr(dom, "data-detail");
  EXPECT_NE(ProbeAttr(dom, "data-detail").find("region: "), std::string::npos);
  const std::string want = ProbeAttr(dom, "data-want");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(ProbeAttr(dom, "data-marked"), std::to_string(Count(want, ",") + 1)) << "minimal set " << want;

  // A screenshot of the page as it is (no probe): a PNG of the window's size with something in it (the
  // blank page of this size compresses to about 6 KB).
  RunResult shot = Chromium({"--screenshot=" + png, "--window-size=1400,1000", "file://" + page});
  ASSERT_TRUE(shot.status.success()) << shot.output.substr(0, 4000);
  const std::string bytes = Read(png);
  ASSERT_GT(bytes.size(), 24u) << png << " missing or empty";
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](size_t at) {
    return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
           uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
  };
  EXPECT_EQ(be32(16), 1400u);
  EXPECT_EQ(be32(20), 1000u);
  EXPECT_GT(bytes.size(), 50000u) << "the screenshot looks blank";

  if (const char* keep = std::getenv("TORN_KEEP_REPORT")) {
    std::filesystem::create_directories(keep);
    for (const std::string& f : {page, png})
      std::filesystem::copy_file(f, std::filesystem::path(keep) / std::filesystem::path(f).filename(),
                                 std::filesystem::copy_options::overwrite_existing);
  }
}

TEST_F(HtmlReport, RefusesAMissingDatabaseAndAnotherTrace) {
  RunResult missing = RunTorn({"report", "--db", dir_.path() + "/none.db", "--html", dir_.path() + "/x.html"});
  EXPECT_EQ(missing.status.code, 2);
  EXPECT_NE(missing.output.find("none.db: no such database"), std::string::npos) << missing.output;

  const std::string db = dir_.path() + "/check.db";
  RunResult check = RunTorn({"check", std::string(TORN_SOURCE_DIR) + "/corpus/ext4-4k", "--budget", "20", "--db", db}, 600);
  ASSERT_LE(check.status.code, 1) << check.output;
  RunResult other = RunTorn({"report", "--db", db, "--html", dir_.path() + "/x.html", "--trace",
                             std::string(TORN_SOURCE_DIR) + "/corpus/ext4-nobarrier"});
  EXPECT_EQ(other.status.code, 2);
  EXPECT_NE(other.output.find("not the trace"), std::string::npos) << other.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/x.html"));
}

}  // namespace
}  // namespace torn::testing
