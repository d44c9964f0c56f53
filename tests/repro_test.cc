// A violation reproduced by hand. torn check's report prints, for its first fsck violation, a
// `torn replay --to-entry CP --drop LIST --device-size N --out state.img && e2fsck ...` command; these
// tests hold it to its word:
//   - torn replay with --drop and --torn builds the same bytes as the checker's own state image
//     (checker/state_image.h), on a synthetic trace with overlapping, dropped and torn writes, and on
//     violations of the corpus trace recorded with barrier=0;
//   - the command printed by `torn check corpus/ext4-nobarrier --budget 50`, run literally through
//     the shell, makes e2fsck -fn fail as the verdict says;
//   - a bad --drop or --torn names the token and exits 2.
#include <fstream>

#include <gtest/gtest.h>

#include "base/subprocess.h"
#include "base/temp_file.h"
#include "checker/state_image.h"
#include "report/summary.h"
#include "replayer/replay.h"
#include "tests/test_util.h"
#include "trace/log.h"
#include "trace/log_builder.h"

namespace torn::testing {
namespace {

std::string CorpusTrace(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

// The checker's image of a state, as torn check builds it, hashed.
std::string CheckerImageMd5(const trace::Log& log, uint64_t bytes, const models::CrashState& state,
                            const std::string& dir) {
  auto image = checker::StateImage::Create(log, bytes, dir);
  if (!image.ok()) return "create: " + image.status().message();
  if (Status st = image->MoveTo(state); !st.ok()) return "move: " + st.message();
  return Md5OfFile(image->path());
}

TEST(ReproSynthetic, ReplayDropAndTornGiveTheCheckersImage) {
  auto dir = TempDir::Create("torn-repro-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/log";
  trace::LogBuilder b(512);
  b.Write(0, 8, 0x10).Flush().Write(2, 4, 0x20).Write(4, 4, 0x30).Discard(6, 1).Write(7, 3, 0x40)
      .Write(1, 2, 0x50).Flush().Write(0, 1, 0x60).Mark("end");
  b.WriteTo(path);
  auto log = trace::Log::Open(path);
  ASSERT_TRUE(log.ok()) << log.status().message();
  uint64_t bytes = checker::ImageBytes(*log, 0);
  // A state through entry 8: entries 2 and 5 dropped, of entry 3 only sectors 1 and 3 landed.
  models::CrashState state;
  state.base_end = 2;
  state.crash_point = 8;
  state.dropped = {2, 5};  // sorted, as the models make them (models/model.h)
  state.torn = {{3, {1, 3}}};
  std::string want = CheckerImageMd5(*log, bytes, state, dir->path());

  std::string img = dir->path() + "/state.img";
  auto r = replay::ReplayToImage(*log, img, {.to_entry = 8, .device_bytes = bytes, .drop = {2, 5},
                                             .torn = {{3, {1, 3}}}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Md5OfFile(img), want);
  // And through the command line, as the report prints it.
  auto cli = RunTorn({"replay", path, "--to-entry", "8", "--drop", "2,5", "--torn", "3:1,3", "--device-size",
                      std::to_string(bytes), "--out", img});
  ASSERT_EQ(cli.status.code, 0) << cli.output;
  EXPECT_EQ(Md5OfFile(img), want);
  // Nothing dropped nor torn: the plain replay.
  auto plain = RunTorn({"replay", path, "--to-entry", "8", "--device-size", std::to_string(bytes), "--out", img});
  ASSERT_EQ(plain.status.code, 0) << plain.output;
  EXPECT_NE(Md5OfFile(img), want);
}

nlohmann::json CheckNobarrierJson(const std::string& model) {
  auto r = RunTorn({"check", CorpusTrace("ext4-nobarrier"), "--model", model, "--budget", "50", "--jobs", "2", "--json"},
                   900);
  EXPECT_EQ(r.status.code, 1) << r.output;
  size_t brace = r.output.find('{');
  auto j = nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j;
}

// For violations of `model` on ext4-nobarrier (at most 6, spread over the run): torn replay with the
// violation's --drop and --torn lists gives the image the checker builds for that state.
void ExpectReplayGivesTheCheckersImages(const std::string& model) {
  auto dir = TempDir::Create("torn-repro-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  std::string trace = CorpusTrace("ext4-nobarrier");
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok());
  std::ifstream in(trace + "/trace.json");
  uint64_t bytes = checker::ImageBytes(*log, nlohmann::json::parse(in)["device_bytes"].get<uint64_t>());
  auto j = CheckNobarrierJson(model);
  std::vector<nlohmann::json> vs = j["violations"];
  ASSERT_FALSE(vs.empty()) << j.dump(1);
  size_t step = std::max<size_t>(1, vs.size() / 6), torn = 0;
  for (size_t k = 0; k < vs.size(); k += step) {
    const auto& v = vs[k];
    models::CrashState state;
    state.crash_point = v["crash_point"].get<size_t>();
    state.dropped = v["dropped"].get<std::vector<size_t>>();
    std::vector<std::string> args = {"replay", trace, "--to-entry", std::to_string(state.crash_point),
                                     "--device-size", std::to_string(bytes), "--out", dir->path() + "/state.img"};
    if (!state.dropped.empty()) args.insert(args.end(), {"--drop", report::IndexRanges(state.dropped)});
    for (const auto& t : v["torn"]) {
      state.torn.push_back({t["entry"].get<size_t>(), t["sectors"].get<std::vector<uint32_t>>()});
      std::vector<size_t> sectors(state.torn.back().sectors.begin(), state.torn.back().sectors.end());
      args.insert(args.end(), {"--torn", std::to_string(state.torn.back().entry) + ":" + report::IndexRanges(sectors)});
    }
    torn += !state.torn.empty();
    std::string want = CheckerImageMd5(*log, bytes, state, dir->path());
    auto r = RunTorn(args);
    ASSERT_EQ(r.status.code, 0) << r.output;
    EXPECT_EQ(Md5OfFile(dir->path() + "/state.img"), want) << v.dump();
  }
  if (model == "torn-sector") EXPECT_GT(torn, 0u) << "no torn state among the sample";
}

TEST(ReproCorpus, ReplayDropGivesTheCheckersImageOfEachViolation) {
  ExpectReplayGivesTheCheckersImages("fua-barrier");
}

TEST(ReproCorpus, ReplayDropAndTornGiveTheCheckersImageOfTornStates) {
  ExpectReplayGivesTheCheckersImages("torn-sector");
}

// The line after "reproduce #N" in the human report, and violation N's detail.
struct Printed {
  std::string command, detail;
};
Printed FindReproduce(const std::string& out) {
  Printed p;
  size_t at = out.find("\nreproduce #");
  if (at == std::string::npos) return p;
  std::string id = out.substr(at + 12, out.find(' ', at + 12) - at - 12);
  size_t line = out.find('\n', at + 1) + 1;
  p.command = out.substr(line, out.find('\n', line) - line);
  p.command.erase(0, p.command.find_first_not_of(' '));
  size_t v = out.find("\n#" + id + " ");
  if (v != std::string::npos) {
    // The detail is the last indented line of the violation's block.
    size_t end = out.find("\n\n", v + 1);
    size_t next = out.find("\n#", v + 1);
    end = std::min(end, next);
    size_t start = out.rfind("\n    ", end - 1);
    if (start != std::string::npos && start > v) p.detail = out.substr(start + 5, end - start - 5);
  }
  return p;
}

TEST(ReproCorpus, PrintedCommandRunThroughTheShellFailsLikeTheVerdict) {
  auto dir = TempDir::Create("torn-repro-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  // --minimize 0: the signatures are listed, not explained, so the report prints the first violations
  // and one reproduce command (the explained signatures' own commands are triage_test's).
  auto check = RunTorn({"check", CorpusTrace("ext4-nobarrier"), "--budget", "50", "--jobs", "2", "--minimize", "0"}, 900);
  ASSERT_EQ(check.status.code, 1) << check.output;
  std::printf("%s\n", check.output.c_str());
  Printed p = FindReproduce(check.output);
  ASSERT_EQ(p.command.rfind("torn replay ", 0), 0u) << check.output;
  ASSERT_NE(p.command.find(" --drop "), std::string::npos) << p.command;
  ASSERT_NE(p.command.find(" --out state.img && e2fsck -E journal_only -y state.img; e2fsck -fn state.img"),
            std::string::npos)
      << p.command;
  ASSERT_EQ(p.detail.rfind("e2fsck -fn: ", 0), 0u) << "expected an e2fsck -fn failure:\n" << check.output;

  std::string bin = TORN_BINARY;
  std::string path = bin.substr(0, bin.rfind('/')) + ":" + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  auto sh = RunChild({.argv = {"sh", "-c", p.command}, .env = {"PATH=" + path}, .cwd = dir->path(),
                      .timeout = std::chrono::seconds(300)});
  ASSERT_TRUE(sh.ok());
  std::printf("$ %s\n%s", p.command.c_str(), sh->output.c_str());
  // The last command is e2fsck -fn: it fails with the exit code the verdict names, and prints the
  // problem the verdict quotes.
  EXPECT_FALSE(sh->status.success()) << sh->output;
  size_t paren = p.detail.find(" (");
  if (paren != std::string::npos) {
    std::string problem = p.detail.substr(paren + 2, p.detail.size() - paren - 3);
    EXPECT_NE(sh->output.find(problem), std::string::npos) << problem << "\n" << sh->output;
  }
  EXPECT_NE(p.detail.find("exit " + std::to_string(sh->status.code) + ":"), std::string::npos)
      << "exit " << sh->status.code << " vs " << p.detail;
}

TEST(ReproUsage, BadDropAndTornNameTheToken) {
  auto dir = TempDir::Create("torn-repro-");
  ASSERT_TRUE(dir.ok());
  std::string trace = CorpusTrace("ext4-nobarrier"), img = dir->path() + "/x.img";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"replay", trace, "--out", img};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunTorn(args);
  };
  auto r = run({"--to-entry", "100", "--drop", "98,9x"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("--drop (the end point is entry 100): '9x' is not an index"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ext4-nobarrier"), std::string::npos) << r.output;  // the trace is named
  r = run({"--to-entry", "100", "--drop", "101-98"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("'101-98' is a reversed range"), std::string::npos) << r.output;
  r = run({"--to-entry", "100", "--drop", "98,150"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("'150': 150 is past the last one allowed (100)"), std::string::npos) << r.output;
  r = run({"--drop", "5000"});  // no end point: the last entry
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("'5000': 5000 is past"), std::string::npos) << r.output;
  r = run({"--to-entry", "100", "--torn", "99"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("--torn '99': give ENTRY:SECTORS"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace torn::testing
