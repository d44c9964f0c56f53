#include "store/store.h"

#include <gtest/gtest.h>

#include "base/subprocess.h"
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

// A group's members go in one transaction: a member the store refuses takes the whole group with it.
// Classes' fields (covers, class key, fixed entries) round-trip, big numbers as decimal text.
TEST(Store, SaveStatesStoresAGroupWhollyOrNotAtAll) {
  auto dir = TempDir::Create("torn-store-");
  std::string db = dir->path() + "/r.db";
  auto s = Store::Open(db);
  ASSERT_TRUE(s.ok());
  auto r = s->BeginRun({"trace", "sha", 185, 512}, "key", "{}");
  ASSERT_TRUE(r.ok());
  StoredState a = MakeState(7), b = MakeState(7 | (uint64_t{1} << 40));
  a.covers = "68822006333";
  a.class_key = "0bd5d13b89bd4a5013a0b6f32df97591";
  a.fixed = {96, 97, 98};
  b.covers = "1";
  ASSERT_TRUE(s->SaveStates(r->id, {a, b}).ok());
  StoredState c = MakeState(9);
  EXPECT_FALSE(s->SaveStates(r->id, {c, a}).ok()) << "a member stored twice";
  auto states = s->LoadStates(r->id);
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 2u) << "state 9 was stored without the rest of its group";
  EXPECT_EQ((*states)[0].covers, "68822006333");
  EXPECT_EQ((*states)[0].class_key, a.class_key);
  EXPECT_EQ((*states)[0].fixed, (std::vector<uint64_t>{96, 97, 98}));
  EXPECT_EQ((*states)[1].state_id, b.state_id);
}

// A database written before classes (no covers, class_key, fixed columns) opens, gains them, and its
// states read as single states without a class.
TEST(Store, ADatabaseFromBeforeClassesIsMigrated) {
  auto dir = TempDir::Create("torn-store-");
  std::string db = dir->path() + "/old.db";
  std::string sql =
      "CREATE TABLE traces(id INTEGER PRIMARY KEY, path TEXT NOT NULL, log_sha256 TEXT NOT NULL UNIQUE, "
      "entries INTEGER NOT NULL, sectorsize INTEGER NOT NULL);"
      "CREATE TABLE runs(id INTEGER PRIMARY KEY, trace_id INTEGER NOT NULL REFERENCES traces(id), key TEXT NOT "
      "NULL UNIQUE, options TEXT NOT NULL, started TEXT NOT NULL DEFAULT (datetime('now')), finished TEXT, "
      "possible TEXT, generated INTEGER, strategy TEXT);"
      "CREATE TABLE states(run_id INTEGER NOT NULL REFERENCES runs(id), state_id INTEGER NOT NULL, model TEXT NOT "
      "NULL, segment INTEGER NOT NULL, crash_point INTEGER NOT NULL, base_end INTEGER NOT NULL, dropped TEXT NOT "
      "NULL, torn TEXT NOT NULL, digest TEXT NOT NULL, reused_from INTEGER, PRIMARY KEY(run_id, state_id));"
      "INSERT INTO traces VALUES(1, 't', 'sha', 10, 512);"
      "INSERT INTO runs(id, trace_id, key, options) VALUES(1, 1, 'k', '{}');"
      "INSERT INTO states VALUES(1, 3, 'fua-barrier', 0, 5, 2, '[4]', '[]', 'ab', NULL);";
  auto r = RunChild({.argv = {"sqlite3", db, sql}});
  ASSERT_TRUE(r.ok() && r->status.success()) << (r.ok() ? r->output : r.status().message());
  auto s = Store::Open(db);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto states = s->LoadStates(1);
  ASSERT_TRUE(states.ok()) << states.status().message();
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0].covers, "1");
  EXPECT_EQ((*states)[0].class_key, "");
  EXPECT_TRUE((*states)[0].fixed.empty());
  EXPECT_TRUE(s->SaveState(1, MakeState(4)).ok());
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
