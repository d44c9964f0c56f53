#include "cli/command.h"

#include <unistd.h>

#include <fmt/core.h>

namespace torn::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"info", "summarize a trace: entries, flags, marks", RunInfo},
      {"replay", "apply a trace in order onto a zeroed image, through a mark or an entry", RunReplay},
      {"import", "turn a bare dm-log-writes log into a trace directory", RunImport},
      {"record", "record a workload's block I/O (lab VM or device-mapper host)", RunRecord},
      {"mark", "insert a mark into the log being recorded (record --host)", RunMark},
      {"states", "count the crash states a model allows, per segment and in total", RunStates},
      {"check", "judge every crash state of a trace: fsck, data, ordering, mount", RunCheck},
      {"merge", "merge the databases of a check's shards (check --shard K/N) into one, print the result", RunMerge},
      {"gate", "loop driver gate: ext4 on loop on ext4, every crash of the lower device", RunGate},
      {"explain", "one failing crash state: its signature, minimal lost writes, what they are, how to reproduce", RunExplain},
      {"report", "a check's database as one self-contained HTML page: timeline, coverage, signatures", RunReport},
      {"fuzz", "a fuzz campaign: generated workloads recorded in the lab VM, every crash state checked against what they were promised", RunFuzz},
  };
  return kCommands;
}

int ReportError(const Status& status) {
  fmt::print(stderr, "torn: {}\n", status.message());
  return status.code() == Code::kInterrupted ? kExitInterrupted : kExitBadInput;
}

int ParseArgs(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector form reversed
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    fmt::print("{}", app.help());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "torn {}: {}\n(torn {} --help for usage)\n", app.get_name().substr(5),
               e.what(), app.get_name().substr(5));
    return kExitBadInput;
  }
  return -1;
}

bool StderrIsTty() { return ::isatty(2) == 1; }

}  // namespace torn::cli
