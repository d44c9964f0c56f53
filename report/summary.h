// torn check's human report: what a kernel developer reads after a run, in this order and short
// enough to read whole whatever the number of violations.
//   1. header: trace, model, crash points, from mark, oracles, states possible/generated/checked,
//      distinct images, time, notes;
//   2. verdict table: per oracle, states checked and failing; per crash point, states and failing
//      states by oracle (the crash points with the most failing states first, the rest counted);
//   3. the first `shown` violations, each: state, crash point (and the mark before it), oracle,
//      dropped entries shortened
//      ("[98,99,100,…(+38)]"), torn writes, detail (first lines);
//   4. a reproduce command for one violation (the first fsck one, else the first): `torn replay` with
//      --to-entry, --drop, --torn and --device-size rebuilds the image the checker judged, byte for
//      byte (checker/state_image.h; replayer/replay.h), then the oracle's check;
//   5. how many more there are and where to find them all (--all, --json, --junit, --db).
// The rule: the machine-readable reports (report.h) carry everything; this one never prints an
// unbounded list unless --all asks for it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checker/run.h"

namespace torn::report {

struct SummaryOptions {
  bool all = false;          // every violation, one line each (grep-friendly), instead of the first few
  size_t shown = 10;         // violations printed in full without `all`
  size_t table_rows = 8;     // crash points in the verdict table
  std::string trace_arg;     // the TRACE argument as given, for the reproduce command
  uint64_t image_bytes = 0;  // the size of the images the checker built; 0: no reproduce command
  // The trace's marks (entry, name) in log order, to say where a crash point is: "after mark 'step-3'".
  std::vector<std::pair<size_t, std::string>> marks;
  // The triage's section (triage/text.h: violations by signature, minimized representatives with their
  // reproduce commands), printed after the violations. When it explains representatives
  // (`signatures_explained`) it stands for the first violations and the one reproduce command, which
  // are left out (with `all` the list of every violation stays).
  std::string signatures;
  bool signatures_explained = false;
};

std::string ResultToText(const checker::CheckResult& r, const SummaryOptions& options);

// "98-101,105": a sorted list of indexes as torn replay's --drop takes it.
std::string IndexRanges(std::vector<size_t> indexes);
// "[98,99,100,…(+38)]": the first `keep` indexes and how many more.
std::string ShortEntryList(const std::vector<size_t>& indexes, size_t keep = 6);
// The shell command that rebuilds violation v's image into `image` and runs its oracle's check.
std::string ReproduceCommand(const std::string& trace, uint64_t image_bytes, const checker::Violation& v,
                             const std::string& image = "state.img");
// A word for the shell: as is when it is made of safe characters, else in single quotes.
std::string ShellQuote(const std::string& s);

}  // namespace torn::report
