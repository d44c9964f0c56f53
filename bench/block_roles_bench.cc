// torn_bench_block_roles: how long one block-roles walk (ext4/block_roles.h) takes on a corpus state.
// The walk runs once per class candidate, so its cost multiplies by thousands in a check.
//
//   torn_bench_block_roles [--walks N] [TRACE | IMAGE]...
//
// A TRACE (default: corpus/ext4-default, ext4-4k and ext4-long) is replayed through its last entry
// (the file system after its workload and unmount: the journal is empty) onto an image in /dev/shm;
// an IMAGE file is used as it is. Prints, per input: ms per walk (the median of N walks through one
// ImageView, the image in the page cache), inodes walked, and blocks per role.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/fd.h"
#include "base/temp_file.h"
#include "ext4/block_roles.h"
#include "replayer/replay.h"
#include "trace/log.h"

namespace torn {
namespace {

using Clock = std::chrono::steady_clock;

Status BenchImage(const std::string& label, const std::string& image, int walks) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(image, O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + image, errno);
  ext4::ImageView view(fd.get(), uint64_t(st.st_size));
  std::vector<double> ms;
  ext4::BlockRoles last;
  for (int i = 0; i < walks; ++i) {
    auto t = Clock::now();
    TORN_ASSIGN_OR_RETURN(last, ext4::ComputeBlockRoles(view));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(ms.begin(), ms.end());
  fmt::print("{}: {:.3f} ms per walk (median of {}; min {:.3f}, max {:.3f}), {} blocks of {} bytes, "
             "{} inodes walked, {} metadata sectors of {}{}\n",
             label, ms[ms.size() / 2], walks, ms.front(), ms.back(), last.blocks, last.block_size,
             last.inodes_walked, last.metadata.sectors(), uint64_t(st.st_size) / ext4::kSector,
             last.complete ? "" : " — INCOMPLETE: " + last.why);
  for (int r = 0; r < ext4::kRoleCount; ++r)
    if (uint64_t n = last.BlocksWithRole(ext4::Role(r)))
      fmt::print("    {:>8} {}\n", n, ext4::RoleName(ext4::Role(r)));
  return Status::Ok();
}

Status BenchTrace(const std::string& trace, int walks, const std::string& dir) {
  TORN_ASSIGN_OR_RETURN(trace::Log log, trace::Log::Open(trace));
  std::string image = dir + "/state.img";
  TORN_RETURN_IF_ERROR(replay::ReplayToImage(log, image, {}).status());
  return BenchImage(std::filesystem::path(trace).filename().string(), image, walks);
}

int Main(int argc, char** argv) {
  int walks = 200;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--walks" && i + 1 < argc)
      walks = std::max(1, std::atoi(argv[++i]));
    else
      inputs.push_back(a);
  }
  if (inputs.empty())
    for (const char* t : {"ext4-default", "ext4-4k", "ext4-long"})
      inputs.push_back(std::string(TORN_SOURCE_DIR) + "/corpus/" + t);
  auto dir = TempDir::Create("torn-bench-roles-", std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "");
  if (!dir.ok()) {
    fmt::print(stderr, "torn_bench_block_roles: {}\n", dir.status().message());
    return 2;
  }
  int rc = 0;
  for (const std::string& in : inputs) {
    Status st = std::filesystem::is_directory(in) || in.ends_with(".zst") ? BenchTrace(in, walks, dir->path())
                                                                         : BenchImage(in, in, walks);
    if (!st.ok()) {
      fmt::print(stderr, "torn_bench_block_roles: {}: {}\n", in, st.message());
      rc = 2;
    }
  }
  return rc;
}

}  // namespace
}  // namespace torn

int main(int argc, char** argv) { return torn::Main(argc, argv); }
