// torn: the entry point. Finds the subcommand in the table, suggests the nearest one for a typo, and
// turns an interrupt into exit status 130 after the command has unwound and cleaned up.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "base/interrupt.h"
#include "cli/command.h"

namespace torn::cli {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

void PrintUsage(std::FILE* out) {
  fmt::print(out,
             "torn {} - crash-consistency verification for Linux block storage\n\n"
             "usage: torn COMMAND [options]   (torn COMMAND --help for each command's options)\n\n"
             "commands:\n",
             TORN_VERSION);
  for (const Command& c : Commands()) fmt::print(out, "  {:<8} {}\n", c.name, c.summary);
  fmt::print(out,
             "\nA TRACE is a trace directory (torn record, torn import) or a bare dm-log-writes log,\n"
             "raw or zstd-compressed. Exit status: 0 ok, 1 violations found, 2 bad input or usage,\n"
             "130 interrupted.\n");
}

}  // namespace

int Main(int argc, char** argv) {
  InstallInterruptHandlers();
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitBadInput;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return kExitOk;
  }
  if (name == "--version") {
    fmt::print("torn {}\n", TORN_VERSION);
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : Commands()) {
    if (name == c.name) {
      int rc = c.run(std::move(args));
      if (Interrupted()) return 128 + InterruptSignal();
      return rc;
    }
  }
  const Command* best = nullptr;
  size_t best_d = 3;  // suggest only close matches
  for (const Command& c : Commands()) {
    size_t d = EditDistance(name, c.name);
    if (d < best_d) best_d = d, best = &c;
  }
  fmt::print(stderr, "torn: unknown command '{}'", name);
  if (best) fmt::print(stderr, "; did you mean '{}'?", best->name);
  fmt::print(stderr, " (torn --help lists the commands)\n");
  return kExitBadInput;
}

}  // namespace torn::cli

int main(int argc, char** argv) { return torn::cli::Main(argc, argv); }
