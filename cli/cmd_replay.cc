// torn replay TRACE --out IMG [--to-mark NAME | --to-entry N] [--drop LIST] [--torn ENTRY:SECTORS]...
//   [--device-size BYTES] [--force]
// --drop and --torn rebuild one crash state of torn check by hand (replayer/replay.h).
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
      "IMG may be a file (created or overwritten) or a loop device that is not mounted.\n"
      "--drop and --torn rebuild a crash state that torn check reported: replay through its crash\n"
      "point, skip its dropped entries, and of a torn entry apply only the sectors that landed\n"
      "(torn check prints this command for its first violation, with the --device-size of the\n"
      "images it judged so that the image is the same byte for byte; --json has every state's lists).",
      "torn replay"};
  std::string trace, out;
  std::string to_mark;
  uint64_t to_entry = 0, device_size = 0;
  std::string drop;
  std::vector<std::string> torn;
  bool force = false;
  app.add_option("TRACE", trace, "trace directory or log file")->required();
  app.add_option("--out", out, "image file or loop device to write")->required();
  auto* m = app.add_option("--to-mark", to_mark, "replay through the first mark of this name");
  auto* e = app.add_option("--to-entry", to_entry, "replay through this entry index (0-based)");
  m->excludes(e);
  app.add_option("--drop", drop, "entries not to apply: indexes and ranges, e.g. 98,99,120-125");
  app.add_option("--torn", torn,
                 "ENTRY:SECTORS, repeatable: of this entry only these sectors landed (0-based within it, "
                 "in the log's sector size), e.g. 41:0-3,7")
      ->allow_extra_args(false);
  app.add_option("--device-size", device_size, "image size in bytes (default: see above)");
  app.add_flag("--force", force, "allow a block device that is not a loop device, or a busy one");
  app.footer("\nExamples:\n  torn replay TRACE --out /tmp/step2.img --to-mark step-2 && e2fsck -fn /tmp/step2.img\n"
             "  torn replay TRACE --out /dev/loop3 --to-entry 41      # onto a loop device you own\n"
             "  # a crash state from torn check: through crash point 140, without entries 98, 99, 120..125\n"
             "  torn replay TRACE --to-entry 140 --drop 98,99,120-125 --device-size 67108864 --out state.img\n"
             "  e2fsck -E journal_only -y state.img; e2fsck -fn state.img\n"
             "  # a torn-sector state: of entry 131 only sectors 0..3 and 7 landed\n"
             "  torn replay TRACE --to-entry 140 --torn 131:0-3,7 --out state.img");
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
  if (!drop.empty() || !torn.empty()) {
    auto last = replay::ResolveEndPoint(*log, opt);
    if (!last.ok()) return ReportError(last.status());
    if (!drop.empty()) {
      auto list = replay::ParseIndexList(drop, *last, fmt::format("--drop (the end point is entry {})", *last));
      if (!list.ok()) return ReportError(list.status().with_context(trace));
      opt.drop = std::move(list).value();
    }
    for (const auto& spec : torn) {
      auto w = replay::ParseTornWrite(*log, spec, *last);
      if (!w.ok()) return ReportError(w.status().with_context(trace));
      opt.torn.push_back(std::move(w).value());
    }
  }
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
