// store_merge.cc: runs listed with their plan, the digest of a run adds up over disjoint runs, and a
// run imported from other stores is stored whole (rows as they were) or, on a clash, not at all.
#include <gtest/gtest.h>

#include "base/temp_file.h"
#include "store/store.h"

namespace torn::store {
namespace {

StoredState State(uint64_t id, bool ok) {
  StoredState s;
  s.state_id = id;
  s.model = "fua-barrier";
  s.crash_point = 10 + id;
  s.dropped = {id};
  s.digest = "abc";
  s.covers = "4";
  s.class_key = "k" + std::to_string(id % 3);
  if (id % 2) s.reused_from = id - 1;
  s.verdicts = {{"fsck", ok, ok ? "" : "bad", "output of " + std::to_string(id)}};
  return s;
}

const TraceInfo kTrace{"trace", "sha", 185, 512};

// A store with one finished run holding the given states.
int64_t Fill(Store& s, const std::string& key, std::vector<uint64_t> ids) {
  auto r = s.BeginRun(kTrace, key, "{}");
  EXPECT_TRUE(r.ok());
  for (uint64_t id : ids) EXPECT_TRUE(s.SaveState(r->id, State(id, id != 3)).ok());
  EXPECT_TRUE(s.FinishRun(r->id, "12", ids.size(), "exhaustive", R"({"plan":1})").ok());
  return r->id;
}

TEST(StoreMerge, DigestsAddUpAndImportCopiesRowsWhole) {
  auto dir = TempDir::Create("torn-store-merge-");
  auto a = Store::Open(dir->path() + "/a.db");
  auto b = Store::Open(dir->path() + "/b.db");
  auto whole = Store::Open(dir->path() + "/whole.db");
  ASSERT_TRUE(a.ok() && b.ok() && whole.ok());
  int64_t ra = Fill(*a, "shard 1", {0, 2, 4});
  int64_t rb = Fill(*b, "shard 2", {1, 3});
  int64_t rw = Fill(*whole, "whole", {0, 1, 2, 3, 4});

  auto runs = a->Runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].plan, R"({"plan":1})");
  EXPECT_TRUE((*runs)[0].finished);
  EXPECT_EQ((*runs)[0].states, 3u);
  EXPECT_EQ((*runs)[0].trace.log_sha256, "sha");

  auto out = Store::Open(dir->path() + "/out.db");
  ASSERT_TRUE(out.ok());
  StoredRun merged = (*runs)[0];
  merged.key = "whole";
  merged.plan = "{}";
  auto id = out->ImportRun(merged, {{&*a, ra}, {&*b, rb}});
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto dm = out->RunDigest(*id), dw = whole->RunDigest(rw), da = a->RunDigest(ra);
  ASSERT_TRUE(dm.ok() && dw.ok() && da.ok());
  EXPECT_EQ(*dm, *dw);  // the union of the parts holds the whole's rows
  EXPECT_NE(*da, *dw);
  auto states = out->LoadStates(*id);
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 5u);
  EXPECT_EQ((*states)[3].reused_from, 2u);
  EXPECT_FALSE((*states)[3].verdicts[0].ok);
  EXPECT_EQ((*states)[3].verdicts[0].output, "output of 3");

  // The same key again is refused and leaves nothing behind (one transaction).
  EXPECT_FALSE(out->ImportRun(merged, {{&*a, ra}}).ok());
  auto after = out->Runs();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 1u);
  // Overlapping sources are refused whole too (a state twice).
  merged.key = "overlap";
  EXPECT_FALSE(out->ImportRun(merged, {{&*a, ra}, {&*whole, rw}}).ok());
  EXPECT_EQ(out->Runs()->size(), 1u);
}

}  // namespace
}  // namespace torn::store
