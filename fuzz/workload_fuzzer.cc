// libFuzzer target over the workload language (workload/op.h), structure-aware: the input is records
// of workload_codec.h (why binary: see there) decoded to the campaign's setup plus up to 16 valid ops;
// LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver work on operations (workload_mutate.h).
//
// Every input, in process (CI, OSS-Fuzz): decode -> Print -> Parse round-trips, and torn's runner runs
// the workload on tmpfs with its promise bookkeeping held to runner.h's rules (workload_checks.h); a
// broken rule aborts with the op and the workload printed. Features go to libFuzzer's extra counters
// (the `__libfuzzer_extra_counters` section, cleared by libFuzzer before each input): op pairs, each
// persistence op after which core op, ops by the kind of name they act on, the promise set's shape
// after each persistence op, failed ops by errno.
//
// Campaign mode (built with -DTORN_FUZZ_RECORD=ON; run with TORN_FUZZ_RECORD=1, root and QEMU;
// workload_campaign.h): the workload is also recorded
// in the lab VM and checked as `torn fuzz` does; what the check observed (jbd2 transaction shapes,
// window patterns, e2fsck problems, signatures) feeds the counters, and a failing state aborts with its
// signatures, so libFuzzer saves the input as a crash.
//
// `sync` is linked wrapped (-Wl,--wrap=sync): in process the runner works on tmpfs, and sync(2) would
// flush every file system of the machine thousands of times a second; in campaign mode the host's
// sync is the real one.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#ifdef TORN_FUZZ_RECORD
#include "fuzz/workload_campaign.h"
#endif
#include "fuzz/workload_checks.h"
#include "fuzz/workload_codec.h"
#include "fuzz/workload_mutate.h"

namespace {

constexpr size_t kCounters = 1 << 14;
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t g_counters[kCounters];

std::string* g_root = nullptr;
bool g_recording = false;
#ifdef TORN_FUZZ_RECORD
torn::fuzz::RecordMode* g_record = nullptr;
#endif

void Count(uint64_t feature) {
  uint8_t& c = g_counters[feature % kCounters];
  if (c < 255) ++c;
}

[[noreturn]] void Die(const std::string& why, const torn::workload::Workload& w) {
  std::fprintf(stderr, "workload_fuzzer: %s\n--- workload ---\n%s---\n", why.c_str(), torn::workload::Print(w).c_str());
  std::abort();
}

void RemoveRoot() {
  if (g_root) {
    std::error_code ec;
    std::filesystem::remove_all(*g_root, ec);
  }
}

}  // namespace

extern "C" void __real_sync();
extern "C" void __wrap_sync() {
  if (g_recording) __real_sync();
}

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/dev/shm/torn-workload-fuzzer-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("workload_fuzzer: mkdtemp /dev/shm");
    std::exit(1);
  }
  g_root = new std::string(tmpl);
  std::atexit(RemoveRoot);
#ifdef TORN_FUZZ_RECORD
  auto env = torn::fuzz::RecordModeFromEnv();
  g_recording = env.enabled;
  g_record = new torn::fuzz::RecordMode(env.mode);
  if (g_recording)
    std::fprintf(stderr, "workload_fuzzer: campaign mode: every input recorded in the lab VM (mount options '%s')\n",
                 g_record->mount_opts.c_str());
#else
  const char* on = std::getenv("TORN_FUZZ_RECORD");
  if (on && std::string(on) == "1") {
    std::fprintf(stderr, "workload_fuzzer: built without campaign mode (configure with -DTORN_FUZZ_RECORD=ON)\n");
    std::exit(1);
  }
#endif
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return torn::fuzz::MutateWorkload(data, size, max_size, seed, LLVMFuzzerMutate);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size,
                                            uint8_t* out, size_t max_out, unsigned seed) {
  return torn::fuzz::CrossOverWorkloads(a, a_size, b, b_size, out, max_out, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace torn::fuzz;
  if (size > 64 * kRecordBytes) return -1;  // at most 16 ops decode; longer inputs only slow down
  const torn::workload::Workload w = Decode({data, size});
  if (auto e = CheckRoundTrip(w); !e.empty()) Die(e, w);
  WorkloadFeatures(w, Count);

  // A fresh, empty root on tmpfs for each input.
  std::error_code ec;
  std::filesystem::remove_all(*g_root, ec);
  if (::mkdir(g_root->c_str(), 0755) != 0) Die("mkdir " + *g_root + " failed", w);
  if (auto e = CheckPromises(w, *g_root, Count); !e.empty()) Die("promise bookkeeping: " + e, w);

#ifdef TORN_FUZZ_RECORD
  if (g_recording) {
    auto found = RecordAndCheck(torn::workload::Print(w), *g_record, Count);
    if (!found.ok()) {
      // The lab failed (not the workload): say so and go on; libFuzzer keeps running.
      std::fprintf(stderr, "workload_fuzzer: campaign mode: %s\n", found.status().message().c_str());
      return 0;
    }
    if (!found->empty()) {
      std::string sigs;
      for (const auto& s : *found) sigs += "\n  " + s;
      Die("crash states fail the oracles:" + sigs, w);
    }
  }
#endif
  return 0;
}
