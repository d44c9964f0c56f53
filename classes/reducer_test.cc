// The reduction on real traces (the corpus): whatever subset of a window's fixed writes lands, the
// state keeps its group's class key. For every window the reducer was offered, every generated group,
// and seeded random subsets of its fixed writes, the key is computed in process (classes/class_key.h)
// on an image built for real (replay::Materializer) and compared with the group's. A unit proof that
// fixed a write it should not have fails here; so does a class key that reads what it claims it does
// not. (--verify-classes adds real e2fsck on top: tests/classes_test.cc.)
#include "classes/reducer.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "base/temp_file.h"
#include "ext4/journal_map.h"
#include "models/model.h"
#include "oracles/durable.h"
#include "replayer/materializer.h"
#include "trace/expectations.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::classes {
namespace {

std::string Corpus(const std::string& name) { return std::string(TORN_SOURCE_DIR) + "/corpus/" + name; }

class ReducerCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(ReducerCorpus, FixedWritesNeverChangeTheClassKey) {
  const std::string trace = Corpus(GetParam());
  auto log = trace::Log::Open(trace);
  ASSERT_TRUE(log.ok()) << log.status().message();
  auto description = trace::ReadDescription(trace);
  ASSERT_TRUE(description.ok());
  const uint64_t bytes = description->value("device_bytes", uint64_t{0});
  auto ex = trace::ReadExpectations(trace + "/" + trace::kExpectationsFile);
  ASSERT_TRUE(ex.ok());
  auto data = oracles::DataPlan::Build(*log, *ex);
  ASSERT_TRUE(data.ok());
  auto map = ext4::JournalMap::Build(*log);
  ASSERT_TRUE(map.ok());
  oracles::OrderingOracle ordering(std::make_shared<const ext4::JournalMap>(std::move(map).value()));

  auto reducer = Reducer::Create(*log, {.image_bytes = bytes, .data = &*data, .ordering = &ordering});
  ASSERT_TRUE(reducer.ok()) << reducer.status().message();
  models::SpaceOptions o{.max_states = 400, .digests = false};
  o.from_entry = log->FindMark("mkfs");
  o.fix_units = (*reducer)->Callback();
  auto space = models::StateSpace::Build(*log, o);
  ASSERT_TRUE(space.ok()) << space.status().message();

  auto dir = TempDir::Create("torn-reducer-", "/dev/shm");
  ASSERT_TRUE(dir.ok());
  auto image = replay::Materializer::Open(*log, dir->path() + "/img", {.device_bytes = bytes});
  ASSERT_TRUE(image.ok()) << image.status().message();
  auto analyze = [&](const models::CrashState& st) -> Analysis {
    EXPECT_TRUE(image->MoveTo(st, &space->segments()[st.segment]).ok());
    ext4::ImageView view(image->fd(), image->bytes());
    oracles::DataPlan::Applies applies = data->For(oracles::DurableView(st));
    auto a = Analyze(view, {.read_files = ReadFiles(&*data, st.crash_point, {}), .data_key = applies.key(),
                            .raw_digest = image->digest()});
    EXPECT_TRUE(a.ok()) << a.status().message();
    return a.ok() ? std::move(a).value() : Analysis{};
  };

  std::mt19937_64 rng(5);
  uint64_t groups = 0, members = 0;
  ASSERT_TRUE(space->ForEach([&](const models::CrashState& g) {
                     if (!g.fixed) return Status::Ok();
                     ++groups;
                     const Analysis rep = analyze(g);
                     // The writes the proof still holds for on this group (the checker splits the
                     // group over the others): only those may vary.
                     auto units = space->units(g.segment);
                     std::vector<UnitProof> proofs =
                         ProveUnits(*(*reducer)->facts(g.segment), rep, space->fixed(g.segment));
                     std::vector<size_t> fixed;
                     for (size_t u = 0; u < units.size(); ++u)
                       if (space->fixed(g.segment)[u] && proofs[u].kind != UnitKind::kFree)
                         fixed.push_back(units[u].entry);
                     for (int n = 0; n < 40; ++n) {
                       models::CrashState m = g;
                       for (size_t e : fixed)
                         if (rng() & 1) m.dropped.push_back(e);
                       std::sort(m.dropped.begin(), m.dropped.end());
                       // The data rule's state at a mark is a member of its own (checker/group.cc).
                       if (data->For(oracles::DurableView(m)).exact != data->For(oracles::DurableView(g)).exact)
                         continue;
                       if (m.dropped.size() == g.dropped.size() + fixed.size() && g.covers_previous) continue;
                       EXPECT_EQ(analyze(m).key.Hex(), rep.key.Hex())
                           << GetParam() << ": group " << g.id << " (segment " << g.segment << "): a member "
                           << "dropping " << m.dropped.size() - g.dropped.size() << " of its " << fixed.size()
                           << " fixed writes has another key";
                       ++members;
                     }
                     return Status::Ok();
                   }).ok());
  std::printf("%s: %lu groups with fixed writes, %lu members compared\n", GetParam().c_str(),
              (unsigned long)groups, (unsigned long)members);
  EXPECT_GT(groups, 0u);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ReducerCorpus,
                         ::testing::Values("ext4-default", "ext4-4k", "ext4-data-journal", "ext4-long",
                                           "ext4-long-data-journal", "ext4-on-loop-on-ext4"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace torn::classes
