#include "lab/kernel.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn::lab {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kXzMagic("\xfd" "7zXZ\0", 6);

// Runs a tool to completion; its output is the error's detail when it fails.
Status Run(std::vector<std::string> argv, const std::string& cwd = "", int timeout_s = 600) {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.cwd = cwd;
  o.timeout = std::chrono::seconds(timeout_s);
  o.capture_limit = 4096;
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild(o));
  if (r.status.how == ExitStatus::How::kInterrupted) return {Code::kInterrupted, "interrupted"};
  if (!r.status.success()) {
    return Unavailable(QuoteArgv(o.argv) + " failed (" + r.status.describe() + "): " + r.output);
  }
  return Status::Ok();
}

Result<std::string> RunOutput(std::vector<std::string> argv, const std::string& cwd = "") {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.cwd = cwd;
  o.timeout = std::chrono::seconds(60);
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild(o));
  if (!r.status.success()) {
    return Unavailable(QuoteArgv(o.argv) + " failed (" + r.status.describe() + "): " + r.output);
  }
  return r.output;
}

std::string OnlyDeb(const std::string& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename();
    if (n.starts_with(prefix) && n.ends_with(".deb")) return e.path();
  }
  return {};
}

// apt-get download PACKAGE into dir; on failure refresh the package lists once and retry.
Status AptDownload(const std::string& package, const std::string& dir, const Progress& progress) {
  Status st = Run({"apt-get", "download", "-q", package}, dir);
  if (st.ok() || st.code() == Code::kInterrupted) return st;
  if (progress) progress("apt-get download " + package + " failed; running apt-get update once");
  TORN_RETURN_IF_ERROR(Run({"apt-get", "update", "-q"}));
  return Run({"apt-get", "download", "-q", package}, dir);
}

// Extracts the ELF inside an XZ bzImage to `out` (xz --single-stream ignores what follows the payload).
Status ExtractVmlinux(const std::string& image, const std::string& out) {
  TORN_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(image));
  size_t at = FindXzPayload(bytes);
  if (at == std::string::npos) return Unavailable(image + ": no XZ payload");
  // Into a name of our own, renamed into place when whole: another torn may extract the same image.
  std::string tmp = out + ".tmp." + std::to_string(::getpid());
  TORN_RETURN_IF_ERROR(WriteFileAtomic(tmp + ".xz", std::string_view(bytes).substr(at)));
  Status st = Run({"xz", "-d", "-f", "-q", "--single-stream", tmp + ".xz"});  // writes tmp
  std::error_code ec;
  fs::remove(tmp + ".xz", ec);
  if (st.ok()) {
    auto head = ReadFileToString(tmp);
    if (!head.ok() || !head->starts_with("\x7f" "ELF")) st = Unavailable(image + ": its payload is not an ELF kernel");
  }
  if (st.ok()) fs::rename(tmp, out, ec);
  fs::remove(tmp, ec);
  return st.with_context("extract the kernel from " + image);
}

Result<Kernel> LoadCached(const std::string& dir) {
  TORN_ASSIGN_OR_RETURN(std::string text, ReadFileToString(dir + "/kernel.json"));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return BadInput(dir + "/kernel.json: not valid JSON");
  Kernel k;
  k.release = j.value("release", "");
  k.vmlinuz = dir + "/root/boot/vmlinuz-" + k.release;
  k.boot_image = j.value("vmlinux", false) ? dir + "/vmlinux" : k.vmlinuz;
  k.modules_dir = dir + "/root/lib/modules/" + k.release;
  k.description = j.value("description", "");
  return k;
}

Result<Kernel> FetchDebianKernel(const std::string& kernels, const Progress& progress) {
  TORN_ASSIGN_OR_RETURN(TempDir tmp, TempDir::Create(".fetch-", kernels));
  if (progress) progress("fetching Debian's linux-image-amd64 (first use; cached in " + kernels + ")");
  TORN_RETURN_IF_ERROR(AptDownload("linux-image-amd64", tmp.path(), progress));
  std::string meta = OnlyDeb(tmp.path(), "linux-image-amd64_");
  if (meta.empty()) return Unavailable("apt-get download linux-image-amd64 left no .deb");
  TORN_ASSIGN_OR_RETURN(std::string depends, RunOutput({"dpkg-deb", "-f", meta, "Depends"}));
  // "linux-image-6.1.0-56-amd64 (= 6.1.192-2)": the first word is the versioned package.
  std::string package = depends.substr(0, depends.find_first_of(" ,(\n"));
  if (!package.starts_with("linux-image-")) return Unavailable("linux-image-amd64 depends on " + depends);
  TORN_RETURN_IF_ERROR(AptDownload(package, tmp.path(), progress));
  std::string deb = OnlyDeb(tmp.path(), package + "_");
  if (deb.empty()) return Unavailable("apt-get download " + package + " left no .deb");
  TORN_ASSIGN_OR_RETURN(std::string version, RunOutput({"dpkg-deb", "-f", deb, "Version"}));
  while (!version.empty() && isspace(static_cast<unsigned char>(version.back()))) version.pop_back();
  if (progress) progress("unpacking " + package + " " + version);
  std::string root = tmp.path() + "/root";
  TORN_RETURN_IF_ERROR(Run({"dpkg", "-x", deb, root}));
  fs::remove(deb);
  fs::remove(meta);
  std::string release = package.substr(std::string("linux-image-").size());
  if (!fs::is_directory(root + "/lib/modules/" + release)) {
    return Unavailable(package + ": no lib/modules/" + release + " in the package");
  }
  TORN_RETURN_IF_ERROR(Run({"depmod", "-b", root, release}));
  bool vmlinux = ExtractVmlinux(root + "/boot/vmlinuz-" + release, tmp.path() + "/vmlinux").ok();
  nlohmann::json j = {{"release", release},
                      {"package", package},
                      {"version", version},
                      {"vmlinux", vmlinux},
                      {"description", "Debian " + package + " " + version}};
  TORN_RETURN_IF_ERROR(WriteFileAtomic(tmp.path() + "/kernel.json", j.dump(2) + "\n"));
  std::string final_dir = kernels + "/" + release;
  std::error_code ec;
  fs::rename(tmp.path(), final_dir, ec);
  if (ec) return IoError("rename into " + final_dir + ": " + ec.message());
  tmp.release();
  return LoadCached(final_dir);
}

}  // namespace

size_t FindXzPayload(std::string_view image) { return image.find(kXzMagic); }

std::string CacheRoot() {
  if (const char* t = ::getenv("TORN_CACHE_DIR"); t && *t) return t;
  if (const char* x = ::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/torn";
  const char* home = ::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/torn";
}

Result<Kernel> DebianKernel(const Progress& progress) {
  std::string kernels = CacheRoot() + "/kernels";
  std::error_code ec;
  fs::create_directories(kernels, ec);
  if (ec) return IoError("create " + kernels + ": " + ec.message());
  TORN_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(kernels + "/.lock"));
  std::vector<std::string> cached;
  for (const auto& e : fs::directory_iterator(kernels, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "kernel.json")) cached.push_back(e.path());
  }
  if (!cached.empty()) {
    std::sort(cached.begin(), cached.end());
    return LoadCached(cached.back());
  }
  return FetchDebianKernel(kernels, progress);
}

Result<Kernel> KernelFromImage(const std::string& image, const Progress& progress) {
  std::error_code ec;
  if (!fs::is_regular_file(image, ec)) return BadInput(image + ": no such kernel image");
  Kernel k;
  k.vmlinuz = fs::absolute(image);
  k.boot_image = k.vmlinuz;
  std::string name = fs::path(image).filename();
  if (name.starts_with("vmlinuz-")) k.release = name.substr(8);
  else if (name.starts_with("vmlinux-")) k.release = name.substr(8);
  k.description = "user kernel " + k.vmlinuz;
  if (!k.release.empty()) {
    for (std::string dir : {fs::path(k.vmlinuz).parent_path().string() + "/../lib/modules/" + k.release,
                            "/lib/modules/" + k.release}) {
      if (fs::exists(dir + "/modules.dep", ec)) {
        k.modules_dir = fs::canonical(dir);
        break;
      }
    }
  }
  TORN_ASSIGN_OR_RETURN(std::string head, ReadFileToString(image));
  if (!head.starts_with("\x7f" "ELF") && FindXzPayload(head) != std::string::npos) {
    // Extract once per image (keyed by name, size and time) to spare the guest the decompression.
    struct stat st;
    ::stat(image.c_str(), &st);
    std::string dir = CacheRoot() + "/images/" + name + "-" + std::to_string(st.st_size) + "-" +
                      std::to_string(st.st_mtime);
    fs::create_directories(dir, ec);
    std::string out = dir + "/vmlinux";
    if (!fs::exists(out, ec)) {
      if (progress) progress("extracting the uncompressed kernel from " + image);
      if (!ExtractVmlinux(image, out).ok()) return k;  // boot the bzImage as it is
    }
    k.boot_image = out;
  }
  return k;
}

}  // namespace torn::lab
