#include "oracles/test_images.h"

#include <fcntl.h>

#include <span>
#include <stdexcept>

#include "base/fd.h"
#include "base/subprocess.h"
#include "base/temp_file.h"

namespace torn::oracles::testing {
namespace {

void Run(std::vector<std::string> argv) {
  SpawnOptions s;
  s.argv = std::move(argv);
  auto r = RunChild(s);
  if (!r.ok()) throw std::runtime_error(s.argv[0] + ": " + r.status().message());
  if (!r->status.success()) throw std::runtime_error(s.argv[0] + " failed: " + r->output);
}

void Make(const std::string& path, bool delete_sub) {
  Run({"mke2fs", "-q", "-F", "-t", "ext4", path, "8M"});
  auto dir = TempDir::Create("torn-test-image-");
  if (!dir.ok()) throw std::runtime_error(dir.status().message());
  const std::string text = dir->path() + "/text", cmds = dir->path() + "/cmds";
  auto write = [](const std::string& file, const std::string& data) {
    auto fd = OpenFile(file, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd.ok() || !WriteFull(fd->get(), std::as_bytes(std::span(data))).ok())
      throw std::runtime_error("write " + file);
  };
  write(text, "hello\n");
  std::string script = "mkdir dir\nwrite " + text + " dir/sub\nwrite " + text + " dir/ok\n";
  if (delete_sub) script += "sif dir/sub links_count 0\n";
  write(cmds, script);
  Run({"debugfs", "-w", "-f", cmds, path});
}

}  // namespace

void MakeDeletedInodeImage(const std::string& path) { Make(path, true); }
void MakeCleanDirImage(const std::string& path) { Make(path, false); }

}  // namespace torn::oracles::testing
