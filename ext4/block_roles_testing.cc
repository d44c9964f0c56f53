#include "ext4/block_roles_testing.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <random>

#include "base/fd.h"
#include "base/sparse_file.h"
#include "base/subprocess.h"

namespace torn::ext4::testing {
namespace {

Result<uint64_t> FileBytes(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("stat " + path, errno);
  return uint64_t(st.st_size);
}

// Random bytes over [offset, offset + length) of fd.
Status Fill(int fd, uint64_t offset, uint64_t length, std::mt19937_64& rng) {
  std::vector<std::byte> buf(1 << 20);
  while (length > 0) {
    size_t n = size_t(std::min<uint64_t>(length, buf.size()));
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = rng();
      for (size_t k = 0; k < 8 && i + k < n; ++k) buf[i + k] = std::byte(v >> (8 * k));
    }
    TORN_RETURN_IF_ERROR(PwriteFull(fd, std::span(buf.data(), n), offset));
    offset += n;
    length -= n;
  }
  return Status::Ok();
}

}  // namespace

Result<BlockRoles> RolesOfImage(const std::string& image, const BlockRolesOptions& options) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(image, O_RDONLY | O_CLOEXEC));
  TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileBytes(fd.get(), image));
  ImageView view(fd.get(), bytes);
  return ComputeBlockRoles(view, options);
}

Result<uint64_t> ScribbleUnread(const std::string& image, const BlockRoles& roles, uint64_t seed) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(image, O_RDWR | O_CLOEXEC));
  TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileBytes(fd.get(), image));
  const uint64_t sectors = bytes / kSector;
  std::mt19937_64 rng(seed);
  uint64_t pos = 0, written = 0;
  auto gap = [&](uint64_t until) -> Status {
    until = std::min(until, sectors);
    if (until <= pos) return Status::Ok();
    written += until - pos;
    return Fill(fd.get(), pos * kSector, (until - pos) * kSector, rng);
  };
  for (const auto& [first, end] : roles.metadata.ranges()) {
    TORN_RETURN_IF_ERROR(gap(first));
    pos = std::max(pos, end);
  }
  TORN_RETURN_IF_ERROR(gap(sectors));
  return written;
}

Status ScribbleBlocks(const std::string& image, uint32_t block_size, const std::vector<BlockExtent>& extents,
                      uint64_t seed) {
  TORN_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(image, O_RDWR | O_CLOEXEC));
  std::mt19937_64 rng(seed);
  for (const BlockExtent& e : extents)
    TORN_RETURN_IF_ERROR(Fill(fd.get(), e.first * block_size, e.count * block_size, rng));
  return Status::Ok();
}

Result<FsckRun> RunE2fsck(const std::vector<std::string>& args, const std::string& image) {
  SpawnOptions so;
  so.argv = {"e2fsck"};
  so.argv.insert(so.argv.end(), args.begin(), args.end());
  so.argv.push_back(image);
  so.timeout = std::chrono::seconds(120);
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild(so));
  FsckRun out;
  out.code = r.status.how == ExitStatus::How::kExited ? r.status.code : -1;
  out.output = std::move(r.output);
  for (size_t at = out.output.find(image); at != std::string::npos; at = out.output.find(image, at))
    out.output.replace(at, image.size(), "IMAGE");
  return out;
}

Status CopyImage(const std::string& from, const std::string& to) {
  TORN_ASSIGN_OR_RETURN(UniqueFd src, OpenFile(from, O_RDONLY | O_CLOEXEC));
  TORN_ASSIGN_OR_RETURN(uint64_t bytes, FileBytes(src.get(), from));
  TORN_ASSIGN_OR_RETURN(UniqueFd dst, OpenFile(to, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  return SparseCopy(src.get(), dst.get(), bytes);
}

}  // namespace torn::ext4::testing
