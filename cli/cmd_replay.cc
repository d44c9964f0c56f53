// torn replay TRACE --out IMG [--to-mark NAME | --to-entry N] [--device-size BYTES] [--force]
#include <fmt/core.h>

#include "cli/command.h"
#include "replayer/replay.h"
#include "trace/log.h"

namespace torn::cli {

int RunReplay(std::vector<std::string> args) {
  CLI::App app{
      "Apply a trace's entries in log order onto a zeroed image, through a mark or an entry (the\n"
      "whole log by default). The image is byte-identical to what xfstests' replay-log produces.\n"
      "A discard zeroes its range. Without --device-size the image covers every write and, when\n"
      "the replayed data holds an ext4 super block, the whole file system.\n"
      "IMG may be a file (created or overwritten) or a loop device that is not mounted.",
      "torn replay"};
  std::string trace, out;
  std::string to_mark;
  uint64_t to_entry = 0, device_size = 0;
  bool force = false;
  app.add_option("TRACE", trace, "trace directory or log file")->required();
  app.add_option("--out", out, "image file or loop device to write")->required();
  auto* m = app.add_option("--to-mark", to_mark, "replay through the first mark of this name");
  auto* e = app.add_option("--to-entry", to_entry, "replay through this entry index (0-based)");
  m->excludes(e);
  app.add_option("--device-size", device_size, "image size in bytes (default: see above)");
  app.add_flag("--force", force, "allow a block device that is not a loop device, or a busy one");
  app.footer("\nExamples:\n  torn replay TRACE --out /tmp/step2.img --to-mark step-2 && e2fsck -fn /tmp/step2.img\n"
             "  torn replay TRACE --out /dev/loop3 --to-entry 41      # onto a loop device you own");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  trace::OpenOptions open;
  open.device_bytes = device_size;
  auto log = trace::Log::Open(trace, open);
  if (!log.ok()) return ReportError(log.status());

  replay::ReplayOptions opt;
  if (!m->empty()) opt.to_mark = to_mark;
  if (!e->empty()) opt.to_entry = to_entry;
  opt.device_bytes = device_size;
  opt.force = force;
  bool tty = StderrIsTty();
  if (tty) {
    opt.progress = [](uint64_t done, uint64_t total) {
      fmt::print(stderr, "\rreplaying: entry {}/{}", done, total);
    };
  }
  auto r = replay::ReplayToImage(*log, out, opt);
  if (tty) fmt::print(stderr, "\n");
  if (!r.ok()) return ReportError(r.status());
  fmt::print("replayed entries 0..{} ({} applied, {:.1f} MiB of data) onto {} ({} bytes) in {:.2f} s\n",
             r->last_entry, r->entries_applied, r->bytes_applied / 1048576.0, out, r->image_bytes,
             r->seconds);
  return kExitOk;
}

}  // namespace torn::cli
