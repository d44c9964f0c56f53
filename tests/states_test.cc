// `torn states` end to end on the real-kernel samples (and on corpus/*/ when present): the exact
// `possible` against a count derived here, independently, from each model's rule as DESIGN.md states
// it. The implementation counts per segment with a dependency graph; this counts crash point by crash
// point how many states each one adds that no earlier one allows, with plain arithmetic.
#include <filesystem>

#include <boost/multiprecision/cpp_int.hpp>
#include <gtest/gtest.h>

#include "tests/test_util.h"
#include "trace/log.h"

namespace torn::testing {
namespace {

using Big = boost::multiprecision::cpp_int;

// The traces to check: the samples, then every corpus/NAME/ directory. All of them, whatever their size
// (corpus/ext4-long-data-journal allows 1.8*10^44 states): `torn states` counts and plans, it builds no
// image, so each run takes milliseconds.
std::vector<std::string> Traces() {
  std::vector<std::string> out;
  for (const auto& s : SampleNames()) out.push_back(SampleLog(s));
  std::filesystem::path corpus = std::filesystem::path(TORN_SOURCE_DIR) / "corpus";
  if (std::filesystem::is_directory(corpus))
    for (const auto& d : std::filesystem::directory_iterator(corpus))
      if (d.is_directory()) out.push_back(d.path().string());
  return out;
}

// Crash point c (from `from` on) under the model: which states does it allow that no earlier selected
// crash point did? A crash after c keeps everything through the last barrier and any subset of the
// units logged since (prefix: exactly the entries through c).
//   - the first selected crash point: all its states, 2^k (prefix: 1);
//   - a content write that is not a barrier: the states that keep some unit of it, 2^k - 2^(k-u);
//   - a barrier that changes content (a FUA write): one, everything through it (prefix: likewise);
//   - anything else (an empty flush, a mark): none; its states equal the previous point's.
Big IndependentCount(const trace::Log& log, const std::string& model, size_t from) {
  Big total = 0;
  uint64_t k = 0;  // units logged since the last barrier
  bool first = true;
  for (size_t c = 0; c < log.size(); ++c) {
    const trace::Entry& e = log.entry(c);
    bool barrier = model == "epoch" ? e.flush() : (e.flush() || (e.fua() && e.changes_content()));
    uint64_t u = !e.changes_content() ? 0 : model == "torn-sector" ? e.nr_sectors : 1;
    if (barrier) k = 0;
    else k += u;
    if (c < from) continue;
    Big added;
    if (first) added = model == "prefix" ? Big(1) : Big(1) << k;
    else if (model == "prefix" || barrier) added = e.changes_content() ? 1 : 0;
    else added = (Big(1) << k) - (Big(1) << (k - u));
    total += added;
    first = false;
  }
  return total;
}

// reorder:K, crash point by crash point: the states at c are base(c) ∪ X, base(c) everything through
// the barrier K before the last one at or before c (nothing when there are not K+1), X any set of the
// content entries in (base(c), c]. Those not allowed at any earlier point are those not allowed at the
// previous selected point p (its states include every earlier point's that c allows): S_c ∩ S_p is
// base(c) ∪ X with X within (base(c), p], when no content lies in (p, base(c)].
Big ReorderCount(const trace::Log& log, uint32_t k, size_t from) {
  std::vector<uint64_t> before(log.size() + 1, 0);  // content entries before i
  for (size_t i = 0; i < log.size(); ++i) before[i + 1] = before[i] + log.entry(i).changes_content();
  auto content = [&](int64_t a, int64_t b) {  // content entries in (a, b], a = -1 for the start
    return b <= a ? uint64_t{0} : before[size_t(b) + 1] - before[size_t(a) + 1];
  };
  Big total = 0;
  std::vector<int64_t> barriers;
  int64_t prev = -1;
  bool first = true;
  for (size_t c = 0; c < log.size(); ++c) {
    const trace::Entry& e = log.entry(c);
    if (e.flush() || (e.fua() && e.changes_content())) barriers.push_back(int64_t(c));
    if (c < from) continue;
    int64_t base = barriers.size() > k ? barriers[barriers.size() - 1 - k] : -1;
    Big all = Big(1) << content(base, int64_t(c));
    if (first) total += all;
    else if (content(prev, base) == 0) total += all - (Big(1) << content(base, prev));
    else total += all;
    first = false;
    prev = int64_t(c);
  }
  return total;
}

TEST(StatesOnSamples, ReorderIsExactCrashPointByCrashPoint) {
  for (const std::string& trace : Traces()) {
    auto log = trace::Log::Open(trace);
    ASSERT_TRUE(log.ok()) << log.status().message();
    std::vector<std::pair<std::string, size_t>> froms = {{"", 0}};
    for (const auto& m : log->marks()) froms.emplace_back(m.name, m.entry);
    for (uint32_t k : {1u, 2u, 3u}) {
      for (const auto& [mark, entry] : froms) {
        std::vector<std::string> args = {"states", trace, "--model", "reorder:" + std::to_string(k), "--json"};
        if (mark.empty()) args.push_back("--all-points");
        else args.insert(args.end(), {"--from-mark", mark});
        auto r = RunTorn(args);
        ASSERT_TRUE(r.status.success()) << r.output;
        auto j = nlohmann::json::parse(r.output);
        EXPECT_EQ(j["total"]["possible"].get<std::string>(), ReorderCount(*log, k, entry).str())
            << trace << " reorder:" << k << " from " << (mark.empty() ? "start" : mark);
        EXPECT_EQ(j["beyond_contract"], true);
        EXPECT_LE(j["total"]["generated"].get<uint64_t>(), 100000u);
      }
    }
    // reorder's count with K = 0 is fua-barrier's.
    auto fb = RunTorn({"states", trace, "--model", "fua-barrier", "--all-points", "--json"});
    ASSERT_TRUE(fb.status.success()) << fb.output;
    EXPECT_EQ(nlohmann::json::parse(fb.output)["total"]["possible"].get<std::string>(), ReorderCount(*log, 0, 0).str())
        << trace;
  }
}

TEST(StatesOnSamples, PossibleIsExactForEveryModelAndMark) {
  for (const std::string& trace : Traces()) {
    auto log = trace::Log::Open(trace);
    ASSERT_TRUE(log.ok()) << log.status().message();
    std::vector<std::pair<std::string, size_t>> froms = {{"", 0}};
    for (const auto& m : log->marks()) froms.emplace_back(m.name, m.entry);
    for (std::string model : {"prefix", "epoch", "fua-barrier", "torn-sector"}) {
      for (const auto& [mark, entry] : froms) {
        std::vector<std::string> args = {"states", trace, "--model", model, "--json"};
        // No mark: every crash point (--all-points; the default would start at mkfs).
        if (mark.empty()) args.push_back("--all-points");
        else args.insert(args.end(), {"--from-mark", mark});
        auto r = RunTorn(args);
        ASSERT_TRUE(r.status.success()) << r.output;
        auto j = nlohmann::json::parse(r.output);
        EXPECT_EQ(j["total"]["possible"].get<std::string>(),
                  IndependentCount(*log, model, entry).str())
            << trace << " " << model << " from " << (mark.empty() ? "start" : mark);
        Big sum = 0;
        uint64_t generated = 0;
        for (const auto& s : j["segments"]) {
          sum += Big(s["possible"].get<std::string>());
          generated += s["generated"].get<uint64_t>();
        }
        EXPECT_EQ(sum.str(), j["total"]["possible"].get<std::string>());
        EXPECT_EQ(generated, j["total"]["generated"].get<uint64_t>());
        EXPECT_LE(generated, 100000u);
      }
    }
  }
}

TEST(StatesOnSamples, PrefixCountsTheContentEntriesOfTheFacts) {
  // Under prefix, a state is the log replayed through a crash point: one per write or discard, plus
  // the empty device when the log starts with something else (both samples start with a flush).
  for (const auto& sample : SampleNames()) {
    auto facts = SampleFacts(sample);
    auto r = RunTorn({"states", SampleLog(sample), "--model", "prefix", "--all-points", "--json"});
    ASSERT_TRUE(r.status.success()) << r.output;
    auto j = nlohmann::json::parse(r.output);
    uint64_t want = facts["data_writes"].get<uint64_t>() +
                    facts["entries_with_flag"]["discard"].get<uint64_t>() + 1;
    EXPECT_EQ(j["total"]["possible"], std::to_string(want)) << sample;
    EXPECT_EQ(j["total"]["generated"], want);
    EXPECT_EQ(j["total"]["strategy"], "exhaustive");
  }
}

// Without --from-mark, counting starts at the mkfs mark (said on stderr and in JSON); --all-points and
// --from-mark '' count from the start of the trace.
TEST(StatesOnSamples, DefaultStartsAtTheMkfsMark) {
  auto json_of = [](const RunResult& r) {
    size_t brace = r.output.find('{');  // the note on stderr comes first in the merged output
    return nlohmann::json::parse(r.output.substr(brace == std::string::npos ? 0 : brace));
  };
  auto def = RunTorn({"states", SampleLog("ext4-4k"), "--json"});
  ASSERT_TRUE(def.status.success()) << def.output;
  EXPECT_NE(def.output.find("crash points start at mark 'mkfs' (the default"), std::string::npos);
  auto mkfs = RunTorn({"states", SampleLog("ext4-4k"), "--from-mark", "mkfs", "--json"});
  auto all = RunTorn({"states", SampleLog("ext4-4k"), "--all-points", "--json"});
  auto empty = RunTorn({"states", SampleLog("ext4-4k"), "--from-mark", "", "--json"});
  auto jd = json_of(def), jm = json_of(mkfs), ja = json_of(all), je = json_of(empty);
  EXPECT_EQ(jd["from_mark"], "mkfs");
  EXPECT_EQ(jd["from_mark_default"], true);
  EXPECT_EQ(jm["from_mark_default"], false);
  EXPECT_EQ(jd["total"], jm["total"]);
  EXPECT_TRUE(ja["from_mark"].is_null());
  EXPECT_EQ(ja["total"], je["total"]);
  EXPECT_NE(ja["total"]["possible"], jd["total"]["possible"]);
  EXPECT_EQ(RunTorn({"states", SampleLog("ext4-4k"), "--all-points", "--from-mark", "step-1"}).status.code, 2);
}

TEST(StatesOnSamples, BadMarkAndModelAreUsageErrors) {
  auto r = RunTorn({"states", SampleLog("ext4-4k"), "--from-mark", "nope"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("no mark named 'nope' (marks: mkfs, step-1"), std::string::npos) << r.output;
  r = RunTorn({"states", SampleLog("ext4-4k"), "--model", "fua"});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.output.find("unknown model 'fua' (models: prefix, epoch, fua-barrier, torn-sector, reorder:K)"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace torn::testing
