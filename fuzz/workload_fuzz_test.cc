// workload_fuzzer's parts without the engine: the record encoding and its repair, the operation-level
// mutator, and the in-process checks on decoded workloads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>

#include "campaign/generate.h"
#include "fuzz/workload_checks.h"
#include "fuzz/workload_codec.h"
#include "fuzz/workload_mutate.h"

// The runner's sync(2) would flush every file system of the machine; the checks run on tmpfs (the
// test links with -Wl,--wrap=sync, as workload_fuzzer does).
extern "C" void __wrap_sync() {}

namespace torn::fuzz {
namespace {

using workload::Parse;
using workload::Print;

std::string StepsText(std::span<const uint8_t> bytes) { return Print(DecodeSteps(bytes)); }

std::vector<uint8_t> Rec(uint8_t kind, uint8_t p1, uint8_t p2, uint8_t flags, uint16_t off, uint16_t len_minus_1) {
  return {kind, p1, p2, flags, uint8_t(off), uint8_t(off >> 8), uint8_t(len_minus_1), uint8_t(len_minus_1 >> 8)};
}

TEST(WorkloadCodec, GeneratedWorkloadsEncodeAndDecodeBack) {
  auto one = campaign::GenerateWorkloads({.max_length = 1});
  auto two = campaign::GenerateWorkloads({.max_length = 2});
  std::vector<std::string> all = one;
  for (size_t i = one.size(); i < two.size(); i += 37) all.push_back(two[i]);
  for (const auto& text : all) {
    auto bytes = EncodeText(text);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message() << "\n" << text;
    EXPECT_EQ(Print(Decode(*bytes)), text);
  }
}

TEST(WorkloadCodec, EncodeRefusesWhatDecodeWouldRepair) {
  EXPECT_FALSE(EncodeText("creat f0\n").ok());  // no setup
  std::string setup = campaign::kSetup;
  EXPECT_FALSE(EncodeText(setup + "write f9 0 10\n").ok());       // a name not in the table
  EXPECT_FALSE(EncodeText(setup + "write f2 0 10\n").ok());       // f2 does not exist
  EXPECT_FALSE(EncodeText(setup + "rmdir d0\n").ok());            // not empty
  EXPECT_FALSE(EncodeText(setup + "pwrite f0 100 4096 direct\n").ok());  // unaligned direct
  EXPECT_FALSE(EncodeText(setup + "removexattr f0 user.a\n").ok());     // never set
  EXPECT_TRUE(EncodeText(setup + "setxattr f0 user.a v\nremovexattr f0 user.a\n").ok());
  EXPECT_TRUE(EncodeText(setup + "mkdir d1\nrename d0 d1\nfsync d1\ncreat d1/f0\n").ok());
}

TEST(WorkloadCodec, RecordsAreRepaired) {
  // write (1) naming "f2" (2), which does not exist: the next existing file of the table, f0? No: the
  // table goes on from f2: f5, d0 (a dir), d0/f1.
  EXPECT_EQ(StepsText(Rec(1, 2, 0, 0, 10, 99)), "write d0/f1 10 100\n");
  // rmdir (10) of d0, not empty, and no other directory: dropped.
  EXPECT_EQ(StepsText(Rec(10, 4, 0, 0, 0, 0)), "");
  // A direct pwrite (2, flags 1) is aligned to 4096.
  EXPECT_EQ(StepsText(Rec(2, 1, 0, 1, 5000, 99)), "pwrite f0 4096 4096 direct\n");
  // The big-offset flag: offset * 16.
  EXPECT_EQ(StepsText(Rec(3, 1, 0, 0x80, 1000, 0)), "truncate f0 16000\n");
  // Kinds wrap modulo 17; a partial record is ignored.
  std::vector<uint8_t> b = Rec(17 + 15, 0, 0, 0, 0, 0);
  b.push_back(1);
  EXPECT_EQ(StepsText(b), "sync\n");
  // rename of a directory into itself is refused: rename d0 d0/d2 takes the next target whose parent
  // exists (d0/d2/f6 and d1/f0 have none): d2.
  EXPECT_EQ(StepsText(Rec(7, 4, 11, 0, 0, 0)), "rename d0 d2\n");
}

TEST(WorkloadCodec, RandomBytesDecodeToValidRoundTrippingWorkloads) {
  std::minstd_rand rng(7);
  char tmpl[] = "/dev/shm/torn-workload-fuzz-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  size_t ops = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> b(rng() % 140);
    for (auto& x : b) x = uint8_t(rng());
    auto w = Decode(b);
    ops += w.size();
    ASSERT_EQ(CheckRoundTrip(w), "") << Print(w);
    std::filesystem::remove_all(root);
    std::filesystem::create_directory(root);
    uint64_t features = 0;
    ASSERT_EQ(CheckPromises(w, root, [&](uint64_t) { ++features; }), "") << Print(w);
    EXPECT_GT(features, 0u);
  }
  std::filesystem::remove_all(root);
  EXPECT_GT(ops, 300u * 6);  // more than the setup
}

TEST(WorkloadMutator, ResultsAreCanonicalAndBounded) {
  auto seed = EncodeText(std::string(campaign::kSetup) + "write f0 0 4096\nfsync f0\n");
  ASSERT_TRUE(seed.ok());
  std::vector<uint8_t> cur = *seed;
  size_t changed = 0;
  auto flip = [](uint8_t* d, size_t n, size_t) { d[0] ^= 0x5a; return n; };
  for (unsigned s = 0; s < 2000; ++s) {
    std::vector<uint8_t> buf(cur);
    buf.resize(64);
    size_t n = MutateWorkload(buf.data(), cur.size(), 64, s, flip);
    ASSERT_LE(n, 64u);
    ASSERT_EQ(n % kRecordBytes, 0u);
    buf.resize(n);
    auto again = EncodeSteps(DecodeSteps(buf));
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(*again, buf) << "not canonical";
    changed += buf != cur;
    cur = buf;
  }
  EXPECT_GT(changed, 1500u);
  std::vector<uint8_t> out(128);
  size_t n = CrossOverWorkloads(seed->data(), seed->size(), cur.data(), cur.size(), out.data(), out.size(), 3);
  out.resize(n);
  EXPECT_EQ(*EncodeSteps(DecodeSteps(out)), out);
}

TEST(WorkloadFeatures, PairsAndPersistenceAfterCore) {
  std::set<uint64_t> a, b;
  WorkloadFeatures(*Parse(std::string(campaign::kSetup) + "write f0 0 10\nfsync f0\n"), [&](uint64_t h) { a.insert(h); });
  WorkloadFeatures(*Parse(std::string(campaign::kSetup) + "write f0 0 10\nfdatasync f0\n"), [&](uint64_t h) { b.insert(h); });
  EXPECT_NE(a, b);
  EXPECT_GE(a.size(), 8u);
}

}  // namespace
}  // namespace torn::fuzz
