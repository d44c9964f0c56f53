// torn report --html: one self-contained page (inline CSS, inline SVG, a few lines of inline JS; no
// network, no external asset) that shows a stored check (torn check --db) to a person:
//   1. a header: trace, model, oracles, states possible/generated/checked/classes/covered, notes;
//   2. the trace as a timeline in log order (html_svg.cc): one column per entry; writes in one lane
//      per region of the file system (super block, group descriptors, bitmaps, inode table,
//      directories, other metadata, journal, file data, free), flushes as lines across the lanes, FUA
//      writes outlined and flagged, marks named, the model's barrier windows, jbd2 transactions from
//      their first block to their commit, and the failing states per crash point;
//   3. coverage per window: report::ResultToJson's "windows", the figures torn check --json prints;
//   4. failing classes per crash point, by oracle;
//   5. the signatures (triage/triage.h GroupBySignature on the result) with, when the database holds
//      it, the minimization: the minimal set, one line per write (triage/explain.h CompactText), the
//      reproduce command; a button marks the minimal set on the timeline.
//
// Where the timeline's facts come from (html_timeline.cc): the trace itself. Regions are the block
// roles (ext4/block_roles.h) of the file system at the end of the trace (the whole log replayed onto
// an image: after the workload's unmount its journal is empty and every block has its final role);
// a block that changed role during the trace (freed, reused) shows its last one, and the page says so.
// jbd2 blocks are told by ext4/journal_map.h from the log, whatever their block's final role. The
// windows are models::StateSpace's segments under the run's model over the whole trace.
//
// Rules:
//   1. every text that comes from outside (file names, mark names, tool output, signatures) goes
//      through HtmlEscape, in element text and in attribute values alike;
//   2. the page loads nothing: no src= or href= to anything but a fragment of the page itself;
//   3. each write of the trace is exactly one `rect.w` (discards: `rect.d`) carrying data-e="ENTRY"
//      and a <title> that says what it is: the end-to-end test counts them against torn info.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "checker/run.h"
#include "ext4/block_roles.h"
#include "trace/log.h"
#include "triage/triage.h"

namespace torn::report {

// A lane of the timeline: block roles grouped by what a reader of the file system looks for.
enum class Region : uint8_t {
  kSuperBlock,
  kGroupDescriptors,
  kBitmaps,
  kInodeTable,
  kDirectories,
  kOtherMetadata,  // extent-tree, xattr, symlink, special-inode blocks, MMP, other blocks fsck reads
  kJournal,        // the journal inode's blocks, and every block jbd2 wrote (journal_map.h)
  kFileData,
  kFree,           // blocks nothing claims at the end of the trace
  kUnknown,        // no ext4 file system could be read (roles incomplete)
};
inline constexpr int kRegionCount = static_cast<int>(Region::kUnknown) + 1;
std::string_view RegionName(Region r);
Region RegionOf(ext4::Role role);

inline constexpr size_t kNone = static_cast<size_t>(-1);

struct TimelineEntry {
  size_t index = 0;
  uint64_t flags = 0;             // trace/log_format.h
  uint64_t byte_offset = 0, bytes = 0;
  bool write = false;             // carries data
  bool discard = false;
  Region region = Region::kUnknown;
  std::string what;               // its blocks' roles, e.g. "blocks 35-38: inode table of group 0"
  std::string mark;               // a mark's name
  std::string journal;            // jbd2's view: "commit block of transaction 3", "in place, journaled by …"
};

struct TimelineWindow {           // a segment of the model (models/model.h)
  size_t segment = 0;
  size_t barrier = kNone;         // the entry every state of the window keeps (none: from the start)
  size_t first = 0, last = 0;     // its entries
  std::string possible;           // states the model allows in it (decimal)
};

struct TimelineTransaction {      // a jbd2 transaction seen in the log
  uint32_t sequence = 0;
  size_t first = 0;               // its first logged block
  size_t commit = kNone;          // its commit block's entry (none: never committed in the trace)
};

struct Timeline {
  std::vector<TimelineEntry> entries;  // every entry, in log order
  std::vector<TimelineWindow> windows;
  std::vector<TimelineTransaction> transactions;
  std::string roles_note;              // where the regions come from, or why they are unknown
  std::string journal_note;            // journal_map.h's summary, or why there is none
};

struct TimelineOptions {
  std::string model = "fua-barrier";   // the run's model (ParseModelChoice's names)
  uint64_t image_bytes = 0;            // the size of the replayed image (checker::ImageBytes)
  std::string scratch_dir;             // where the image goes (empty: $TMPDIR)
};

// Reads the timeline from the trace: replays it onto a temporary image for the roles, maps the
// journal, builds the model's segments. Errors name the trace.
Result<Timeline> BuildTimeline(const trace::Log& log, const TimelineOptions& options);

struct HtmlReport {
  checker::CheckResult result;
  Timeline timeline;
  // The result's violations grouped (triage::GroupBySignature), each with its stored minimization.
  std::vector<triage::SignatureGroup> signatures;
  std::string source;              // "x.db, run 1": shown in the header
  std::string trace_arg;           // the trace as given, for reproduce commands without a minimization
  uint64_t image_bytes = 0;        // for those commands (report/summary.h ReproduceCommand)
};

std::string RenderHtml(const HtmlReport& report);

// html_svg.cc: the timeline as an inline <svg id="timeline">.
std::string TimelineSvg(const Timeline& t, const checker::CheckResult& r);

// &, <, >, " and ' as entities: safe in element text and in quoted attribute values.
std::string HtmlEscape(std::string_view s);
// A decimal count for people: as it is up to 12 digits, else "1.21e24".
std::string ShortCount(const std::string& decimal);

}  // namespace torn::report
