// The static torn-runner on this machine (no marks): its report parses as a guest report
// (recorder/guest_report.h) and its manifests survive the expectations file (trace/expectations.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/subprocess.h"
#include "recorder/guest_report.h"
#include "trace/expectations.h"

namespace torn::workload {
namespace {

TEST(TornRunner, ReportParsesAndRoundTrips) {
  char tmpl[] = "/tmp/torn-runner-main-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::filesystem::create_directory(dir + "/root");
  std::ofstream(dir + "/w.txt") << "mkdir d0\ncreat d0/f0\nwrite d0/f0 0 4096\nfsync d0/f0\ncreat d0/g\n"
                                   "fsync d0\nrename d0/f0 d0/g\nfrob\n";
  auto bad = RunChild({.argv = {TORN_RUNNER_PATH, "--root", dir + "/root", "--report", dir + "/report", dir + "/w.txt"}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status.code, 2);
  EXPECT_NE(bad->output.find("line 8: unknown operation 'frob'"), std::string::npos) << bad->output;

  std::ofstream(dir + "/w.txt") << "mkdir d0\ncreat d0/f0\nwrite d0/f0 0 4096\nfsync d0/f0\ncreat d0/g\n"
                                   "fsync d0\nrename d0/f0 d0/g\nunlink nothere\n";
  auto run = RunChild({.argv = {TORN_RUNNER_PATH, "--root", dir + "/root", "--report", dir + "/report", dir + "/w.txt"}});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status.code, 1) << run->output;  // the unlink failed, the rest ran
  std::stringstream text;
  text << std::ifstream(dir + "/report").rdbuf();
  EXPECT_NE(text.str().find("TORN-OP-FAILED 8 unlink nothere: No such file or directory"), std::string::npos);
  auto report = recorder::ParseGuestReport(text.str());
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->marks, (std::vector<std::string>{"op4-fsync", "op6-fsync", "op7-rename", "end"}));
  const auto& m4 = report->manifests.at("op4-fsync");
  ASSERT_EQ(m4.files.size(), 1u);
  EXPECT_EQ(m4.files[0].path, "d0/f0");
  EXPECT_EQ(m4.files[0].size, 4096u);
  EXPECT_FALSE(m4.files[0].any_content);
  const auto& m6 = report->manifests.at("op6-fsync");
  ASSERT_EQ(m6.files.size(), 2u);
  EXPECT_TRUE(m6.files[1].any_content);  // d0/g: a name of the fsynced directory
  // The rename dropped d0/f0; d0/g's name stays promised (rename atomicity), its bytes were never.
  ASSERT_EQ(report->manifests.at("end").files.size(), 1u);
  EXPECT_TRUE(report->manifests.at("end").files[0].any_content);
  auto back = trace::ParseExpectations(trace::ExpectationsToJson(report->manifests), "x");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->at("op6-fsync").files, m6.files);
  std::filesystem::remove_all(dir);
}

TEST(TornRunner, EitherLinesParseAndRoundTrip) {
  auto r = recorder::ParseGuestReport(
      "TORN-MARK m\nTORN-MANIFEST m D .\nTORN-MANIFEST m O 200 " + std::string(32, 'a') + " 100 " +
      std::string(32, 'b') + " ./f1\nTORN-MANIFEST-END m\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& f = r->manifests.at("m").files.at(0);
  EXPECT_EQ(f.size, 200u);
  ASSERT_EQ(f.alternatives.size(), 1u);
  EXPECT_TRUE(f.Holds(100, std::string(32, 'b')));
  EXPECT_FALSE(f.Holds(100, std::string(32, 'a')));
  auto j = trace::ExpectationsToJson(r->manifests);
  EXPECT_EQ(j["m"]["files"][0]["or"][0]["size"], 100);
  auto back = trace::ParseExpectations(j, "x");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->at("m").files, r->manifests.at("m").files);
  EXPECT_FALSE(trace::ParseExpectations(nlohmann::json::parse(R"({"m": {"files": [{"path": "f", "size": 1, "md5": "x", "or": [{"size": "1"}]}]}})"), "x").ok());
}

}  // namespace
}  // namespace torn::workload
