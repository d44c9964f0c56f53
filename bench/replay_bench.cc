// Replay speed: MiB of log data applied per second by `torn replay`'s engine (replayer/replay.h), on
// the real-kernel samples (repeated) and on a large synthetic log written here, with the peak resident
// memory, which must stay far below the log's size (the reader keeps an index, not the data).
//
// usage: torn_bench_replay [--big-mib N] [--dir DIR] [LOG...]
//   LOG defaults to tests/samples/*/log.img.zst; DIR (default $TMPDIR) holds the synthetic log and the
//   image. Prints one line per input.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/temp_file.h"
#include "replayer/replay.h"
#include "trace/log.h"
#include "trace/log_format.h"

namespace {

double PeakRssMib() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

void PutLe64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// A log of `mib` MiB of 64 KiB writes over a 256 MiB device, a flush every 16 writes, written
// straight to disk (never held in memory).
std::string WriteBigLog(const std::string& dir, uint64_t mib) {
  std::string path = dir + "/torn-bench-big.log";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint32_t ss = 4096;
  const uint64_t per_write = 16, writes = mib * 1024 / 64;
  uint64_t entries = writes + writes / 16;
  std::vector<char> sector(ss, 0);
  PutLe64(sector.data(), torn::trace::kLogMagic);
  PutLe64(sector.data() + 8, torn::trace::kLogVersion);
  PutLe64(sector.data() + 16, entries);
  std::memcpy(sector.data() + 24, &ss, 4);
  out.write(sector.data(), ss);
  std::vector<char> data(per_write * ss);
  for (uint64_t w = 0; w < writes; ++w) {
    std::memset(sector.data(), 0, ss);
    PutLe64(sector.data(), (w * 7919 % 4096) * per_write);  // scattered over 256 MiB
    PutLe64(sector.data() + 8, per_write);
    out.write(sector.data(), ss);
    std::memset(data.data(), static_cast<int>(w), data.size());
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (w % 16 == 15) {
      std::memset(sector.data(), 0, ss);
      PutLe64(sector.data() + 16, torn::trace::kFlagFlush);
      out.write(sector.data(), ss);
    }
  }
  return path;
}

int Bench(const std::string& path, const std::string& image, int rounds) {
  auto t0 = std::chrono::steady_clock::now();
  auto log = torn::trace::Log::Open(path);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().message().c_str());
    return 2;
  }
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t bytes = 0;
  double seconds = 0;
  for (int r = 0; r < rounds; ++r) {
    auto res = torn::replay::ReplayToImage(*log, image, {});
    if (!res.ok()) {
      std::fprintf(stderr, "%s\n", res.status().message().c_str());
      return 2;
    }
    bytes += res->bytes_applied;
    seconds += res->seconds;
  }
  std::printf("%-48s entries %8zu  log %7.1f MiB  open %.3f s  replay %7.1f MiB/s  %9.0f entries/s"
              "  peak RSS %6.1f MiB\n",
              path.c_str(), log->size(), log->file_bytes() / 1048576.0, open_s,
              bytes / 1048576.0 / seconds, log->size() * rounds / seconds, PeakRssMib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t big_mib = 1024;
  std::string dir = torn::TempRoot();
  std::vector<std::string> logs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--big-mib" && i + 1 < argc) big_mib = std::stoull(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else logs.push_back(a);
  }
  if (logs.empty()) {
    for (const char* s : {"ext4-512", "ext4-4k"})
      logs.push_back(std::string(TORN_SOURCE_DIR) + "/tests/samples/" + s + "/log.img.zst");
  }
  std::string image = dir + "/torn-bench-image";
  for (const auto& l : logs)
    if (int rc = Bench(l, image, 20); rc) return rc;
  if (big_mib) {
    std::string big = WriteBigLog(dir, big_mib);
    int rc = Bench(big, image, 1);
    ::unlink(big.c_str());
    ::unlink(image.c_str());
    return rc;
  }
  ::unlink(image.c_str());
  return 0;
}
