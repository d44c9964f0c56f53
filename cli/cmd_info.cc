// torn info TRACE [--json] [--list]: what a trace holds. The JSON fields are part of the contract
// (DESIGN.md); counts by flag count an entry once for each flag bit it carries.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "trace/log.h"
#include "trace/trace_dir.h"

namespace torn::cli {

int RunInfo(std::vector<std::string> args) {
  CLI::App app{"Summarize a trace: entry count, sector size, entries by flag, data writes and marks.\n"
               "TRACE is a trace directory or a dm-log-writes log (raw or zstd).",
               "torn info"};
  std::string trace;
  bool json = false, list = false;
  app.add_option("TRACE", trace, "trace directory or log file")->required();
  app.add_flag("--json", json, "print JSON (fields: entries, sectorsize, entries_with_flag, "
                               "data_writes, marks, ...)");
  app.add_flag("--list", list, "also list every entry: index, sector, sectors, flags, mark name");
  app.footer("\nExamples:\n  torn info tests/samples/ext4-4k/log.img.zst\n"
             "  torn info TRACE --json | jq .marks     # mark names with their entry indices");
  if (int rc = ParseArgs(app, std::move(args)); rc >= 0) return rc;

  auto log = trace::Log::Open(trace);
  if (!log.ok()) return ReportError(log.status());

  uint64_t flush = 0, fua = 0, discard = 0, mark = 0, meta = 0, data_writes = 0, data_bytes = 0;
  for (size_t i = 0; i < log->size(); ++i) {
    const trace::Entry& e = log->entry(i);
    flush += e.flush(), fua += e.fua(), discard += e.discard(), mark += e.mark(), meta += e.metadata();
    if (e.has_data()) ++data_writes, data_bytes += log->entry_bytes(i);
  }
  nlohmann::json marks = nlohmann::json::array();
  for (const auto& m : log->marks()) marks.push_back({{"entry", m.entry}, {"name", m.name}});

  if (json) {
    nlohmann::json j = {
        {"trace", trace},
        {"entries", log->size()},
        {"sectorsize", log->sectorsize()},
        {"entries_with_flag",
         {{"flush", flush}, {"fua", fua}, {"discard", discard}, {"mark", mark}, {"metadata", meta}}},
        {"data_writes", data_writes},
        {"data_bytes", data_bytes},
        {"max_byte_touched", log->max_byte_touched()},
        {"marks", marks},
    };
    if (list) {
      nlohmann::json entries = nlohmann::json::array();
      for (size_t i = 0; i < log->size(); ++i) {
        const trace::Entry& e = log->entry(i);
        nlohmann::json je = {{"index", i}, {"sector", e.sector}, {"nr_sectors", e.nr_sectors},
                             {"flags", e.flags}};
        if (e.mark()) je["mark"] = log->mark_name(e);
        entries.push_back(je);
      }
      j["list"] = entries;
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }

  fmt::print("trace        {}\n", trace);
  fmt::print("entries      {}\n", log->size());
  fmt::print("sectorsize   {}\n", log->sectorsize());
  fmt::print("data writes  {} ({:.1f} MiB)\n", data_writes, data_bytes / 1048576.0);
  fmt::print("by flag      flush {}  fua {}  discard {}  mark {}  metadata {}\n", flush, fua,
             discard, mark, meta);
  fmt::print("device       at least {} bytes touched\n", log->max_byte_touched());
  fmt::print("marks        {}\n", log->marks().size());
  for (const auto& m : log->marks()) fmt::print("  {:>8}  {}\n", m.entry, m.name);
  if (list) {
    fmt::print("\n{:>8} {:>12} {:>8}  {}\n", "entry", "sector", "sectors", "flags");
    for (size_t i = 0; i < log->size(); ++i) {
      const trace::Entry& e = log->entry(i);
      fmt::print("{:>8} {:>12} {:>8}  {}{}\n", i, e.sector, e.nr_sectors, trace::FlagNames(e.flags),
                 e.mark() ? "  " + std::string(log->mark_name(e)) : "");
    }
  }
  return kExitOk;
}

}  // namespace torn::cli
