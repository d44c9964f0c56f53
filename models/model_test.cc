// The models on small synthetic logs: states listed by hand, in enumeration order; and, on random
// small logs, the generated states against a brute force written straight from each model's rule.
#include "models/model.h"

#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "trace/log_builder.h"

namespace torn::models {
namespace {

using trace::kFlagFua;
using trace::kFlagFlush;
using trace::kFlagMetadata;

trace::Log Open(const trace::LogBuilder& b) {
  auto log = trace::Log::FromBytes(b.Build(), "synthetic");
  EXPECT_TRUE(log.ok()) << log.status().message();
  return std::move(log).value();
}

// A state as the set of durable (entry, sector) pairs of its content entries.
using Durable = std::set<std::pair<size_t, uint32_t>>;

Durable DurableOf(const trace::Log& log, const CrashState& st) {
  Durable d;
  for (size_t i = 0; i < log.size(); ++i) {
    const trace::Entry& e = log.entry(i);
    if (!e.changes_content()) continue;
    if (st.durable(i)) {
      for (uint32_t s = 0; s < e.nr_sectors; ++s) d.emplace(i, s);
      continue;
    }
    for (const TornWrite& t : st.torn)
      if (t.entry == i)
        for (uint32_t s : t.sectors) d.emplace(i, s);
  }
  return d;
}

// "a,b" naming durable whole entries by letter (entry index -> letter via `names`), torn ones as
// "a[0]".
std::string Describe(const trace::Log& log, const CrashState& st, const std::string& names) {
  std::string out;
  for (size_t i = 0; i < log.size(); ++i) {
    if (!log.entry(i).changes_content()) continue;
    std::string part;
    if (st.durable(i)) part = std::string(1, names[i]);
    for (const TornWrite& t : st.torn)
      if (t.entry == i)
        for (uint32_t s : t.sectors) part += (part.empty() ? "" : ",") + std::string(1, names[i]) +
                                             "[" + std::to_string(s) + "]";
    if (!part.empty()) out += (out.empty() ? "" : ",") + part;
  }
  return "{" + out + "}";
}

std::vector<std::string> States(const trace::Log& log, SpaceOptions o, const std::string& names) {
  auto space = StateSpace::Build(log, o);
  EXPECT_TRUE(space.ok()) << space.status().message();
  std::vector<std::string> out;
  EXPECT_TRUE(space->ForEach([&](const CrashState& st) {
                      out.push_back(Describe(log, st, names));
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(space->coverage().generated, out.size());
  EXPECT_EQ(space->coverage().possible, out.size());
  return out;
}

// entries: a b FLUSH c d(FUA) e MARK f
trace::LogBuilder SmallLog() {
  trace::LogBuilder b(512);
  b.Write(0, 1, 0xa0).Write(1, 1, 0xb0).Flush().Write(2, 1, 0xc0).Write(3, 1, 0xd0, kFlagFua);
  b.Write(4, 1, 0xe0).Mark("m").Write(5, 1, 0xf0);
  return b;
}
const std::string kNames = "ab-cde-f";

TEST(ModelsSynthetic, FuaBarrierStatesByHand) {
  trace::Log log = Open(SmallLog());
  // Window before the flush: any subset of {a,b} (Gray order). After the flush: {a,b} is the previous
  // segment's, so only +c. After the FUA write d: any subset of {e,f}.
  EXPECT_EQ(States(log, {.model = ModelKind::kFuaBarrier}, kNames),
            (std::vector<std::string>{"{}", "{a}", "{a,b}", "{b}", "{a,b,c}", "{a,b,c,d}",
                                      "{a,b,c,d,e}", "{a,b,c,d,e,f}", "{a,b,c,d,f}"}));
}

TEST(ModelsSynthetic, PrefixStatesByHand) {
  trace::Log log = Open(SmallLog());
  EXPECT_EQ(States(log, {.model = ModelKind::kPrefix}, kNames),
            (std::vector<std::string>{"{a}", "{a,b}", "{a,b,c}", "{a,b,c,d}", "{a,b,c,d,e}",
                                      "{a,b,c,d,e,f}"}));
}

TEST(ModelsSynthetic, EpochStatesByHand) {
  trace::Log log = Open(SmallLog());
  // Only the flush is a barrier: after it, any subset of {c,d,e,f} but the empty one (the previous
  // segment's {a,b}), in Gray order over c (lowest bit), d, e, f.
  std::vector<std::string> want = {"{}", "{a}", "{a,b}", "{b}"};
  const char* letters = "cdef";
  for (uint64_t i = 1; i < 16; ++i) {
    uint64_t g = i ^ (i >> 1);
    std::string s = "{a,b";
    for (int bit = 0; bit < 4; ++bit)
      if (g >> bit & 1) s += std::string(",") + letters[bit];
    want.push_back(s + "}");
  }
  EXPECT_EQ(States(log, {.model = ModelKind::kEpoch}, kNames), want);
}

TEST(ModelsSynthetic, TornSectorStatesByHand) {
  trace::LogBuilder b(512);
  b.Write(0, 2, 0x10).Flush().Write(4, 1, 0x20).Write(0, 1, 0x30);  // a(2 sectors) FLUSH b c
  trace::Log log = Open(b);
  EXPECT_EQ(States(log, {.model = ModelKind::kTornSector}, "a-bc"),
            (std::vector<std::string>{"{}", "{a[0]}", "{a}", "{a[1]}", "{a,b}", "{a,b,c}",
                                      "{a,c}"}));
}

TEST(ModelsSynthetic, ReorderStatesByHand) {
  trace::Log log = Open(SmallLog());
  // reorder:1, the last barrier before the crash not honoured. Crash before the flush: any subset of
  // {a,b}. After the flush (entry 2): the window reaches back to the start of the log, {a,b,c}; the
  // subsets of {a,b} are the first segment's, so only those with c (Gray order from 4). After the FUA
  // write d: the window starts after the flush, {c,d,e,f} over base {a,b}, d itself may be lost; the
  // states keeping only c are the second segment's (Gray order from 2).
  std::vector<std::string> want = {"{}", "{a}", "{a,b}", "{b}", "{b,c}", "{a,b,c}", "{a,c}", "{c}"};
  const char* letters = "cdef";
  for (uint64_t i = 2; i < 16; ++i) {
    uint64_t g = i ^ (i >> 1);
    std::string s = "{a,b";
    for (int bit = 0; bit < 4; ++bit)
      if (g >> bit & 1) s += std::string(",") + letters[bit];
    want.push_back(s + "}");
  }
  EXPECT_EQ(States(log, {.model = ModelKind::kReorder, .reorder = 1}, kNames), want);
  // reorder:2 reaches back to the start from every crash point: 2^6 subsets of a..f, each once.
  EXPECT_EQ(States(log, {.model = ModelKind::kReorder, .reorder = 2}, kNames).size(), 64u);
}

TEST(ModelsSynthetic, FromMarkKeepsStatesReachableAfterTheMark) {
  trace::Log log = Open(SmallLog());
  // Crash points from the mark (entry 6) on: 6 and 7, both after the FUA write d.
  EXPECT_EQ(States(log, {.model = ModelKind::kFuaBarrier, .from_entry = 6}, kNames),
            (std::vector<std::string>{"{a,b,c,d}", "{a,b,c,d,e}", "{a,b,c,d,e,f}", "{a,b,c,d,f}"}));
  EXPECT_EQ(States(log, {.model = ModelKind::kPrefix, .from_entry = 6}, kNames),
            (std::vector<std::string>{"{a,b,c,d,e}", "{a,b,c,d,e,f}"}));
}

TEST(ModelsSynthetic, RealLogShapeJbd2Commit) {
  // What a PREFLUSH|FUA commit looks like in a real log: an empty FLUSH|FUA|META entry, then the
  // FUA|META data. Journal writes j1 j2, commit c, then in-place metadata m after the commit.
  trace::LogBuilder b(4096);
  b.Write(10, 1, 1, kFlagMetadata).Write(11, 1, 2, kFlagMetadata);
  b.Flush(kFlagFlush | kFlagFua | kFlagMetadata).Write(12, 1, 3, kFlagFua | kFlagMetadata);
  b.Write(40, 1, 4, kFlagMetadata).Flush();
  trace::Log log = Open(b);
  const std::string names = "jk-cm-";
  // fua-barrier never drops the commit while keeping m.
  auto fb = States(log, {.model = ModelKind::kFuaBarrier}, names);
  EXPECT_EQ(fb, (std::vector<std::string>{"{}", "{j}", "{j,k}", "{k}", "{j,k,c}", "{j,k,c,m}"}));
  // epoch does: {j,k,m} without c (the documented over-approximation).
  auto ep = States(log, {.model = ModelKind::kEpoch}, names);
  EXPECT_NE(std::find(ep.begin(), ep.end(), "{j,k,m}"), ep.end());
}

TEST(ModelsSynthetic, IsPrefixThroughAMark) {
  trace::Log log = Open(SmallLog());
  auto space = StateSpace::Build(log, {.model = ModelKind::kFuaBarrier});
  ASSERT_TRUE(space.ok());
  std::vector<std::string> at_mark;
  ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                     if (IsPrefixThrough(st, 6)) at_mark.push_back(Describe(log, st, kNames));
                     return Status::Ok();
                   }).ok());
  EXPECT_EQ(at_mark, (std::vector<std::string>{"{a,b,c,d,e}"}));
}

TEST(ModelsSynthetic, ParseNames) {
  EXPECT_EQ(*ParseModel("fua-barrier"), ModelKind::kFuaBarrier);
  EXPECT_EQ(*ParseModel("torn-sector"), ModelKind::kTornSector);
  auto bad = ParseModel("fua");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown model 'fua' (models: prefix, epoch, fua-barrier, torn-sector)");
  EXPECT_EQ(ModelName(ModelKind::kEpoch), "epoch");
  auto reorder = ParseModelChoice("reorder:3");
  ASSERT_TRUE(reorder.ok());
  EXPECT_EQ(reorder->kind, ModelKind::kReorder);
  EXPECT_EQ(reorder->reorder, 3u);
  EXPECT_EQ(ModelLabel(reorder->kind, reorder->reorder), "reorder:3");
  EXPECT_EQ(ParseModelChoice("epoch")->kind, ModelKind::kEpoch);
  for (const char* bad_k : {"reorder", "reorder:", "reorder:0", "reorder:x", "reorder:1x", "reorder:65"})
    EXPECT_FALSE(ParseModelChoice(bad_k).ok()) << bad_k;
  EXPECT_EQ(ParseModelChoice("fua").status().message(),
            "unknown model 'fua' (models: prefix, epoch, fua-barrier, torn-sector, reorder:K)");
  EXPECT_FALSE(ParseModel("reorder:1").ok());
  EXPECT_EQ(*ParseCrashPoints("mark"), CrashPoints::kMark);
  EXPECT_FALSE(ParseCrashPoints("every").ok());
}

// --- Brute force, straight from each model's rule (docs/models.md), on random small logs. ---

bool IsBarrier(ModelKind m, const trace::Entry& e) {
  if (m == ModelKind::kEpoch) return e.flush();
  return e.flush() || (e.fua() && e.changes_content());
}

bool IsCrashPoint(const trace::Entry& e, size_t c, const SpaceOptions& o) {
  if (o.from_entry && c < *o.from_entry) return false;
  switch (o.points) {
    case CrashPoints::kAll: return true;
    case CrashPoints::kFlush: return e.flush();
    case CrashPoints::kFua: return e.fua();
    case CrashPoints::kMark: return e.mark();
  }
  return false;
}

// The states at every crash point o selects, up to `through`.
std::set<Durable> BruteForce(const trace::Log& log, const SpaceOptions& o, size_t through = kNoEntry) {
  std::set<Durable> out;
  for (size_t c = 0; c < log.size() && (through == kNoEntry || c <= through); ++c) {
    if (!IsCrashPoint(log.entry(c), c, o)) continue;
    Durable all_before;  // every content sector through c
    std::vector<std::pair<size_t, uint32_t>> optional;
    // The barrier every state keeps: the last one at or before c; under reorder:K the K latest are
    // not honoured, so the one K before it.
    std::vector<size_t> barriers;
    for (size_t i = 0; i <= c; ++i)
      if (IsBarrier(o.model, log.entry(i))) barriers.push_back(i);
    size_t skip = o.model == ModelKind::kReorder ? o.reorder : 0;
    bool any_barrier = barriers.size() > skip;
    size_t barrier = any_barrier ? barriers[barriers.size() - 1 - skip] : 0;
    for (size_t i = 0; i <= c; ++i) {
      const trace::Entry& e = log.entry(i);
      if (!e.changes_content()) continue;
      for (uint32_t s = 0; s < e.nr_sectors; ++s) {
        if (o.model == ModelKind::kPrefix || (any_barrier && i <= barrier))
          all_before.emplace(i, s);
        else
          optional.emplace_back(i, s);
      }
    }
    if (o.model != ModelKind::kTornSector) {  // whole entries: group the optional sectors
      std::vector<std::vector<std::pair<size_t, uint32_t>>> groups;
      for (auto p : optional) {
        if (groups.empty() || groups.back().front().first != p.first) groups.emplace_back();
        groups.back().push_back(p);
      }
      for (uint64_t m = 0; m < (1ULL << groups.size()); ++m) {
        Durable d = all_before;
        for (size_t g = 0; g < groups.size(); ++g)
          if (m >> g & 1) d.insert(groups[g].begin(), groups[g].end());
        out.insert(d);
      }
    } else {
      for (uint64_t m = 0; m < (1ULL << optional.size()); ++m) {
        Durable d = all_before;
        for (size_t g = 0; g < optional.size(); ++g)
          if (m >> g & 1) d.insert(optional[g]);
        out.insert(d);
      }
    }
  }
  return out;
}

trace::LogBuilder RandomLog(std::mt19937_64& rng) {
  trace::LogBuilder b(512);
  int n = 4 + static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: b.Flush(); break;
      case 1: b.Flush(kFlagFlush | kFlagFua | kFlagMetadata); break;
      case 2: b.Mark("m" + std::to_string(i)); break;
      case 3: b.Write(rng() % 6, 1 + rng() % 2, static_cast<uint8_t>(i), kFlagFua); break;
      case 4: b.Discard(rng() % 6, 1 + rng() % 2); break;
      default: b.Write(rng() % 6, 1 + rng() % 2, static_cast<uint8_t>(i)); break;
    }
  }
  return b;
}

// The models with a parameter as they are tried here: reorder:1..3 besides the others.
struct Tried {
  ModelKind model;
  uint32_t reorder = 0;
};
constexpr Tried kTried[] = {{ModelKind::kPrefix},     {ModelKind::kEpoch},      {ModelKind::kFuaBarrier},
                            {ModelKind::kTornSector}, {ModelKind::kReorder, 1}, {ModelKind::kReorder, 2},
                            {ModelKind::kReorder, 3}};

TEST(ModelsSynthetic, RandomLogsMatchTheBruteForceOfEachRule) {
  std::mt19937_64 rng(42);
  const CrashPoints kPoints[] = {CrashPoints::kAll, CrashPoints::kFlush, CrashPoints::kFua,
                                 CrashPoints::kMark};
  for (int round = 0; round < 300; ++round) {
    trace::Log log = Open(RandomLog(rng));
    for (Tried t : kTried) {
      ModelKind m = t.model;
      SpaceOptions o{.model = m, .reorder = t.reorder, .points = kPoints[rng() % 4]};
      if (rng() % 3 == 0) o.from_entry = rng() % log.size();
      auto want = BruteForce(log, o);
      auto space = StateSpace::Build(log, o);
      ASSERT_TRUE(space.ok()) << space.status().message();
      std::set<Durable> got;
      uint64_t n = 0;
      ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                         EXPECT_TRUE(got.insert(DurableOf(log, st)).second) << "a state twice";
                         ++n;
                         return Status::Ok();
                       }).ok());
      ASSERT_EQ(got, want) << "round " << round << " model " << ModelLabel(m, t.reorder);
      EXPECT_EQ(space->coverage().possible, want.size());
      EXPECT_EQ(space->coverage().generated, n);
    }
  }
}

TEST(ModelsSynthetic, DuplicatesByHand) {
  // a, then b over all of a, then c elsewhere: keeping a with b is the image of keeping b alone.
  trace::LogBuilder b(512);
  b.Write(0, 1, 0x10).Write(0, 2, 0x20).Write(8, 1, 0x30);
  trace::Log log = Open(b);
  auto space = StateSpace::Build(log, {.model = ModelKind::kFuaBarrier});
  ASSERT_TRUE(space.ok());
  EXPECT_EQ(space->segments()[0].duplicates, 2u);  // {a,b} and {a,b,c}
  std::vector<std::string> dups;
  ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                     if (st.duplicate) dups.push_back(Describe(log, st, "abc"));
                     return Status::Ok();
                   }).ok());
  EXPECT_EQ(dups, (std::vector<std::string>{"{a,b}", "{a,b,c}"}));
}

TEST(ModelsSynthetic, DuplicatesHaveTheDigestOfAStateThatIsNot) {
  std::mt19937_64 rng(11);
  uint64_t flagged = 0;
  for (int round = 0; round < 200; ++round) {
    trace::Log log = Open(RandomLog(rng));
    for (ModelKind m : {ModelKind::kEpoch, ModelKind::kFuaBarrier, ModelKind::kTornSector}) {
      auto space = StateSpace::Build(log, {.model = m});
      ASSERT_TRUE(space.ok());
      std::map<size_t, std::set<uint64_t>> plain;  // segment -> digests of states not flagged
      std::vector<std::pair<size_t, uint64_t>> dups;
      std::map<size_t, uint64_t> per_segment;
      ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                         if (st.duplicate) dups.emplace_back(st.segment, st.digest), ++per_segment[st.segment];
                         else plain[st.segment].insert(st.digest);
                         return Status::Ok();
                       }).ok());
      for (auto [seg, digest] : dups) EXPECT_TRUE(plain[seg].count(digest)) << "round " << round;
      for (const Segment& s : space->segments()) EXPECT_EQ(s.duplicates, per_segment[s.index]);
      flagged += dups.size();
    }
  }
  EXPECT_GT(flagged, 100u);  // the random logs do overwrite
}

TEST(ModelsSynthetic, BudgetCutsShortDistinctStatesFromTheRule) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    trace::Log log = Open(RandomLog(rng));
    for (Tried t : kTried) {
      SpaceOptions o{.model = t.model, .reorder = t.reorder, .max_states = 1 + rng() % 20, .seed = rng()};
      auto want = BruteForce(log, o);
      auto space = StateSpace::Build(log, o);
      ASSERT_TRUE(space.ok());
      Coverage cov = space->coverage();
      EXPECT_EQ(cov.possible, want.size());
      EXPECT_EQ(cov.generated, std::min<uint64_t>(o.max_states, want.size()));
      uint64_t sum = 0;
      for (const Segment& s : space->segments()) {
        sum += s.generated;
        EXPECT_EQ(s.strategy == "exhaustive", s.possible == s.generated) << s.strategy;
      }
      EXPECT_EQ(sum, cov.generated);
      EXPECT_EQ(cov.strategy == "exhaustive", cov.possible == cov.generated);
      std::set<Durable> got;
      ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                         auto d = DurableOf(log, st);
                         EXPECT_TRUE(want.count(d)) << "a state the rule does not allow";
                         EXPECT_TRUE(got.insert(d).second) << "a state twice";
                         return Status::Ok();
                       }).ok());
      EXPECT_EQ(got.size(), cov.generated);
      // Deterministic: the same options give the same states in the same order.
      std::vector<Durable> a, b;
      auto again = StateSpace::Build(log, o);
      ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                         a.push_back(DurableOf(log, st));
                         return Status::Ok();
                       }).ok());
      ASSERT_TRUE(again->ForEach([&](const CrashState& st) {
                         b.push_back(DurableOf(log, st));
                         return Status::Ok();
                       }).ok());
      EXPECT_EQ(a, b);
    }
  }
}

// A reduction (SpaceOptions::fix_units) on random small logs, with random units fixed: every generated
// state keeps its segment's fixed units durable; expanding each generated state over its fixed units
// (the 2^fixed states it stands for) gives, in exhaustive segments, exactly the rule's states, each
// once; and the coverage counts add up (covered == possible when exhaustive, sum of covers always).
TEST(ModelsSynthetic, ReductionStatesStandForEveryStateOnce) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    trace::Log log = Open(RandomLog(rng));
    for (Tried t : kTried) {
      if (t.model == ModelKind::kPrefix) continue;
      ModelKind m = t.model;
      SpaceOptions o{.model = m, .reorder = t.reorder};
      if (round % 3 == 0) o.max_states = 1 + rng() % 12, o.seed = rng();
      std::map<size_t, std::vector<uint8_t>> asked;
      o.fix_units = [&](const Segment& seg, std::span<const Unit> units) -> Result<std::vector<uint8_t>> {
        EXPECT_EQ(seg.units, units.size());
        std::vector<uint8_t> f(units.size());
        for (auto& x : f) x = rng() % 2;
        asked[seg.index] = f;
        return f;
      };
      auto want = BruteForce(log, {.model = m, .reorder = t.reorder});
      auto space = StateSpace::Build(log, o);
      ASSERT_TRUE(space.ok()) << space.status().message();
      Coverage cov = space->coverage();
      EXPECT_EQ(cov.possible, want.size());
      std::map<Durable, int> seen;
      // The states of the segments before each one (reachable at a crash point up to the previous
      // segment's last), straight from the rule.
      std::map<size_t, std::set<Durable>> earlier;
      auto earlier_of = [&](size_t seg) -> const std::set<Durable>& {
        if (!earlier.count(seg))
          earlier[seg] = BruteForce(log, {.model = m, .reorder = t.reorder}, space->segments()[seg - 1].last);
        return earlier[seg];
      };
      BigCount covers_sum = 0;
      ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                         const std::vector<uint8_t>& fixed = space->fixed(st.segment);
                         EXPECT_EQ(fixed, asked[st.segment].size() && std::count(asked[st.segment].begin(),
                                                                                  asked[st.segment].end(), 1)
                                              ? asked[st.segment]
                                              : std::vector<uint8_t>{});
                         std::span<const Unit> units = space->units(st.segment);
                         std::vector<size_t> fixed_entries;
                         for (size_t u = 0; u < fixed.size(); ++u) {
                           if (!fixed[u]) continue;
                           // A fixed unit is durable (whole entry, or its sector landed).
                           bool landed = st.durable(units[u].entry);
                           for (const TornWrite& t : st.torn)
                             if (t.entry == units[u].entry)
                               landed |= std::count(t.sectors.begin(), t.sectors.end(), units[u].offset) > 0;
                           EXPECT_TRUE(landed) << "round " << round << ": fixed unit " << u << " not durable";
                           fixed_entries.push_back(u);
                         }
                         EXPECT_EQ(st.fixed, fixed_entries.size());
                         covers_sum += st.covers();
                         // The 2^fixed states it stands for: each fixed unit landed or not.
                         Durable base = DurableOf(log, st);
                         uint64_t members = 0;
                         for (uint64_t mask = 0; mask < (uint64_t{1} << fixed_entries.size()); ++mask) {
                           Durable d = base;
                           for (size_t k = 0; k < fixed_entries.size(); ++k)
                             if (!(mask >> k & 1)) {
                               const Unit& unit = units[fixed_entries[k]];
                               for (uint32_t x = unit.offset; x < unit.offset + unit.count; ++x)
                                 d.erase({unit.entry, x});
                             }
                           bool previous = st.segment > 0 && earlier_of(st.segment).count(d);
                           if (previous) {  // counted by an earlier segment
                             EXPECT_TRUE(st.covers_previous) << "round " << round;
                             continue;
                           }
                           EXPECT_TRUE(want.count(d)) << "round " << round << ": a state the rule does not allow";
                           ++seen[d];
                           ++members;
                         }
                         EXPECT_EQ(BigCount(members), st.covers());
                         return Status::Ok();
                       }).ok());
      EXPECT_EQ(covers_sum, cov.covered) << "round " << round;
      bool exhaustive = true;
      for (const Segment& seg : space->segments()) exhaustive &= seg.strategy == "exhaustive";
      for (const auto& [d, n] : seen) EXPECT_EQ(n, 1) << "round " << round << ": a state stood for twice";
      if (exhaustive) {
        EXPECT_EQ(cov.covered, cov.possible);
        EXPECT_EQ(seen.size(), want.size()) << "round " << round << " model " << ModelLabel(m, t.reorder);
      }
    }
  }
}

// The state a segment shares with the previous one (nothing logged between: two flushes in a row) is
// counted by the previous segment; with a reduction, the group that holds it stands for one state
// fewer, and it is still drawn: it holds other states.
TEST(ModelsSynthetic, ReductionByHandAcrossASharedBase) {
  trace::LogBuilder b(512);
  b.Write(0, 1, 0xa0).Flush().Flush().Write(1, 1, 0xb0).Write(2, 1, 0xc0);  // a FLUSH FLUSH b c
  trace::Log log = Open(b);
  SpaceOptions o{.model = ModelKind::kFuaBarrier};
  o.fix_units = [](const Segment&, std::span<const Unit> units) -> Result<std::vector<uint8_t>> {
    std::vector<uint8_t> f(units.size(), 0);
    for (size_t u = 0; u < units.size(); ++u) f[u] = units[u].entry == 3;  // b (entry 3) fixed
    return f;
  };
  auto space = StateSpace::Build(log, o);
  ASSERT_TRUE(space.ok());
  std::vector<std::string> got;
  ASSERT_TRUE(space->ForEach([&](const CrashState& st) {
                     got.push_back(Describe(log, st, "a--bc") + "x" + st.covers().str());
                     return Status::Ok();
                   }).ok());
  // {} and {a} before the flushes; then {a,b} standing for itself ({a} is the previous segment's)
  // and {a,b,c} standing for {a,c} too.
  EXPECT_EQ(got, (std::vector<std::string>{"{}x1", "{a}x1", "{a,b}x1", "{a,b,c}x2"}));
  EXPECT_EQ(space->coverage().covered, space->coverage().possible);
  EXPECT_EQ(space->coverage().possible, 5);
}

}  // namespace
}  // namespace torn::models
