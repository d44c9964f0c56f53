#include "store/store.h"

#include <gtest/gtest.h>

#include "base/temp_file.h"

namespace torn::store {
namespace {

StoredState MakeState(uint64_t id) {
  StoredState s;
  s.state_id = id;
  s.model = "fua-barrier";
  s.crash_point = 10 + id;
  s.base_end = 5;
  s.dropped = {6, 8};
  s.digest = "abc";
  s.verdicts = {{"fsck", true, "", "clean"}, {"ordering", false, "transaction 3: ...", "x"}};
  return s;
}

TEST(Store, RunsResumeByKeyAndStatesRoundTrip) {
  auto dir = TempDir::Create("torn-store-");
  std::string db = dir->path() + "/r.db";
  TraceInfo t{"trace", "sha", 185, 512};
  {
    auto s = Store::Open(db);
    ASSERT_TRUE(s.ok()) << s.status().message();
    auto r = s->BeginRun(t, "key-1", "{}");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->resumed);
    ASSERT_TRUE(s->SaveState(r->id, MakeState(1)).ok());
    StoredState reused = MakeState(2);
    reused.reused_from = 1;
    ASSERT_TRUE(s->SaveState(r->id, reused).ok());
    // Invariant 2: the same state twice is refused, and the refusal leaves no partial rows.
    EXPECT_FALSE(s->SaveState(r->id, MakeState(1)).ok());
  }
  auto s = Store::Open(db);
  ASSERT_TRUE(s.ok());
  auto r = s->BeginRun(t, "key-1", "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->resumed);
  EXPECT_FALSE(r->finished);
  auto states = s->LoadStates(r->id);
  ASSERT_TRUE(states.ok()) << states.status().message();
  ASSERT_EQ(states->size(), 2u);
  EXPECT_EQ((*states)[0].dropped, (std::vector<uint64_t>{6, 8}));
  ASSERT_EQ((*states)[0].verdicts.size(), 2u);
  EXPECT_EQ((*states)[0].verdicts[1].oracle, "ordering");
  EXPECT_FALSE((*states)[0].verdicts[1].ok);
  EXPECT_EQ((*states)[1].reused_from, 1u);
  ASSERT_TRUE(s->FinishRun(r->id, "12", 2, "exhaustive").ok());
  auto again = s->BeginRun(t, "key-1", "{}");
  EXPECT_TRUE(again->finished);
  auto other = s->BeginRun(t, "key-2", "{}");
  EXPECT_FALSE(other->resumed);
  EXPECT_NE(other->id, r->id);
}

TEST(Store, NotADatabaseIsBadInput) {
  auto dir = TempDir::Create("torn-store-");
  std::string db = dir->path() + "/junk";
  FILE* f = fopen(db.c_str(), "w");
  fputs("this is not sqlite, but it is long enough to look like a header of a file......", f);
  fclose(f);
  auto s = Store::Open(db);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace torn::store
