// Writes the fuzzer's seed corpus: small synthetic logs of every entry kind and sector size (the same
// builder the reader's unit tests use), plus the head of each real-kernel sample log given on the
// command line with its entry count cut to what fits (so real headers, marks and data seed the search).
//
// usage: torn_fuzz_seeds OUT_DIR [SAMPLE_LOG...]   (sample logs raw, not zstd)
//
// With --recovery, the seeds of the recovery fuzzer (recovery_fuzz_input.h) instead: for each crash-
// state image given (made by `torn replay`), its first journal blocks, once as they are and once with
// every checksum fixup asked for.
//
// usage: torn_fuzz_seeds --recovery OUT_DIR IMAGE...
//
// With --workload, workload_fuzzer's seeds: campaign/generate.h's workloads in workload_codec.h's
// records, every 1-step workload and every 97th of the 2-step ones (as a default-ext4 campaign with
// --every 97 takes them).
//
// usage: torn_fuzz_seeds --workload OUT_DIR
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "campaign/generate.h"
#include "fuzz/recovery_fuzz_input.h"
#include "fuzz/workload_codec.h"
#include "trace/log.h"
#include "trace/log_builder.h"

using torn::trace::LogBuilder;

namespace {

void Save(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

// The recovery fuzzer's seeds: fixup byte, then the image's first journal blocks.
int RecoverySeeds(const std::string& dir, int argc, char** argv) {
  int n = 0;
  for (int a = 0; a < argc; ++a) {
    auto where = torn::fuzz::LocateJournal(argv[a]);
    if (!where.error.empty()) {
      std::fprintf(stderr, "%s\n", where.error.c_str());
      return 2;
    }
    std::ifstream in(argv[a], std::ios::binary);
    std::vector<std::byte> blocks;
    for (uint64_t phys : where.blocks) {
      std::vector<char> b(where.block_size);
      in.seekg(std::streamoff(phys * where.block_size));
      in.read(b.data(), std::streamsize(b.size()));
      for (char c : b) blocks.push_back(std::byte(c));
    }
    for (uint8_t fix : {uint8_t{0}, uint8_t(torn::fuzz::kFixJournalSuper | torn::fuzz::kFixBlockTails |
                                            torn::fuzz::kFixTagChecksums)}) {
      std::vector<std::byte> seed{std::byte(fix)};
      seed.insert(seed.end(), blocks.begin(), blocks.end());
      Save(dir + "/recovery-" + std::to_string(n++), seed);
    }
  }
  return 0;
}

// workload_fuzzer's seeds: the generator's workloads, encoded.
int WorkloadSeeds(const std::string& dir) {
  auto one = torn::campaign::GenerateWorkloads({.max_length = 1});
  auto two = torn::campaign::GenerateWorkloads({.max_length = 2});
  std::vector<std::string> chosen = one;
  for (size_t i = one.size(); i < two.size(); i += 97) chosen.push_back(two[i]);
  int n = 0;
  for (const auto& text : chosen) {
    auto bytes = torn::fuzz::EncodeText(text);
    if (!bytes.ok()) {
      std::fprintf(stderr, "workload seed %d: %s\n%s", n, bytes.status().message().c_str(), text.c_str());
      return 2;
    }
    std::vector<std::byte> b(bytes->size());
    std::memcpy(b.data(), bytes->data(), b.size());
    Save(dir + "/workload-" + std::to_string(n++), b);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--recovery") return RecoverySeeds(argv[2], argc - 3, argv + 3);
  if (argc == 3 && std::string(argv[1]) == "--workload") return WorkloadSeeds(argv[2]);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [SAMPLE_LOG...]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int n = 0;
  for (uint32_t ss : {512u, 4096u}) {
    LogBuilder all(ss);
    all.Flush().Write(0, 2, 1).Discard(4, 8).Flush(torn::trace::kFlagFlush | torn::trace::kFlagFua |
                                                   torn::trace::kFlagMetadata)
        .Write(10, 1, 2, torn::trace::kFlagFua | torn::trace::kFlagMetadata).Mark("step-1")
        .Write(3, 1, 9, torn::trace::kFlagMetadata).Flush().Mark("dm-log-writes-end");
    Save(dir + "/synthetic-" + std::to_string(n++), all.Build());
    Save(dir + "/synthetic-" + std::to_string(n++), LogBuilder(ss).Mark("m").Build());
    Save(dir + "/synthetic-" + std::to_string(n++), LogBuilder(ss).Build());
  }
  // Real logs: keep the first entries that fit in 64 KiB, with nr_entries rewritten to match.
  for (int a = 2; a < argc; ++a) {
    auto log = torn::trace::Log::Open(argv[a]);
    if (!log.ok()) {
      std::fprintf(stderr, "%s\n", log.status().message().c_str());
      return 2;
    }
    std::ifstream in(argv[a], std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
    uint64_t end = log->sectorsize(), kept = 0;
    for (size_t i = 0; i < log->size(); ++i) {
      const auto& e = log->entry(i);
      uint64_t next = end + log->sectorsize() + (e.has_data() ? log->entry_bytes(i) : 0);
      if (next > 64 * 1024) break;
      end = next, ++kept;
    }
    raw.resize(end);
    for (int b = 0; b < 8; ++b) raw[16 + b] = static_cast<char>((kept >> (8 * b)) & 0xff);
    std::vector<std::byte> bytes(raw.size());
    std::memcpy(bytes.data(), raw.data(), raw.size());
    Save(dir + "/real-" + std::to_string(a - 2), bytes);
  }
  return 0;
}
