#include "recorder/guest_report.h"

#include <gtest/gtest.h>

#include "recorder/guest_job.h"

namespace torn::recorder {
namespace {

TEST(GuestReport, MarksManifestsAndExit) {
  auto r = ParseGuestReport(
      "TORN-MARK mkfs\r\n"
      "TORN-MARK step-1\r\n"
      "TORN-MANIFEST step-1 D .\r\n"
      "TORN-MANIFEST step-1 D ./p\r\n"
      "TORN-MANIFEST step-1 D ./p/q r\r\n"
      "TORN-MANIFEST step-1 F 6 eb260e9ae827821beceeed4104f0ad89 ./p/one\r\n"
      "TORN-MANIFEST step-1 F 0 d41d8cd98f00b204e9800998ecf8427e ./p/q r/empty file\r\n"
      "TORN-MANIFEST-END step-1\r\n"
      "TORN-WORKLOAD-EXIT 0\r\n"
      "TORN-EXIT 0\r\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->marks, (std::vector<std::string>{"mkfs", "step-1"}));
  ASSERT_EQ(r->manifests.count("step-1"), 1u);
  const auto& m = r->manifests.at("step-1");
  EXPECT_EQ(m.dirs, (std::vector<std::string>{".", "p", "p/q r"}));
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(m.files[0], (trace::FileExpectation{"p/one", 6, "eb260e9ae827821beceeed4104f0ad89"}));
  EXPECT_EQ(m.files[1].path, "p/q r/empty file");
  EXPECT_EQ(r->workload_exit, 0);
}

TEST(GuestReport, EmptyManifestIsValid) {
  auto r = ParseGuestReport("TORN-MANIFEST a D .\nTORN-MANIFEST-END a\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->manifests.at("a").dirs.size(), 1u);
}

TEST(GuestReport, APartialManifestKeepsItsFlagThroughJson) {
  auto r = ParseGuestReport(
      "TORN-MARK inner-fsync-p\n"
      "TORN-MANIFEST inner-fsync-p P\n"
      "TORN-MANIFEST inner-fsync-p F 6 eb260e9ae827821beceeed4104f0ad89 ./d/p\n"
      "TORN-MANIFEST-END inner-fsync-p\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto& m = r->manifests.at("inner-fsync-p");
  EXPECT_TRUE(m.partial);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].path, "d/p");
  auto back = trace::ParseExpectations(trace::ExpectationsToJson(r->manifests), "x");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->at("inner-fsync-p").partial);
  EXPECT_EQ(back->at("inner-fsync-p").files, m.files);
  EXPECT_FALSE(ParseGuestReport("TORN-MANIFEST a P x\nTORN-MANIFEST-END a\n").ok());
  EXPECT_FALSE(trace::ParseExpectations(nlohmann::json::parse(R"({"m": {"files": [], "partial": 1}})"), "x").ok());
}

TEST(GuestReport, DamageIsReportedWithTheLine) {
  for (const char* bad : {"TORN-MANIFEST a F x 0123 ./f\nTORN-MANIFEST-END a\n",
                          "TORN-MANIFEST a F 1 eb260e9ae827821beceeed4104f0ad89 /abs\nTORN-MANIFEST-END a\n",
                          "TORN-MANIFEST a Q ./f\n", "TORN-MARK\n", "TORN-WORKLOAD-EXIT -\n",
                          "TORN-MANIFEST-END never\n"}) {
    auto r = ParseGuestReport(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("line "), std::string::npos) << r.status().message();
  }
  auto cut = ParseGuestReport("TORN-MANIFEST a D .\n");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cut short"), std::string::npos);
  auto twice = ParseGuestReport("TORN-MANIFEST a D .\nTORN-MANIFEST-END a\nTORN-MANIFEST a D .\n");
  EXPECT_FALSE(twice.ok());
}

TEST(GuestJob, MarkNames) {
  EXPECT_TRUE(ValidMarkName("step-1"));
  EXPECT_TRUE(ValidMarkName("outer-sync.2:a@b=c+d"));
  EXPECT_FALSE(ValidMarkName(""));
  EXPECT_FALSE(ValidMarkName("two words"));
  EXPECT_FALSE(ValidMarkName("semi;colon"));
  EXPECT_FALSE(ValidMarkName(std::string(129, 'a')));
}

TEST(GuestJob, ConfigQuotesOptions) {
  auto files = GuestJobFiles({.fs = "ext4", .mkfs = "/usr/sbin/mke2fs -q -F -t ext4",
                              .mkfs_opts = "-O fast_commit", .mount_opts = "data=journal,barrier=0",
                              .workload = "true\n"});
  std::string config;
  for (const auto& f : files) if (f.path == "config") config = f.data;
  EXPECT_NE(config.find("MKFS_OPTS='-O fast_commit'"), std::string::npos) << config;
  EXPECT_NE(config.find("MOUNT_OPTS=data=journal,barrier=0"), std::string::npos) << config;
  EXPECT_NE(GuestRunScript().find("log-writes /dev/vda /dev/vdb"), std::string::npos);
}

}  // namespace
}  // namespace torn::recorder
