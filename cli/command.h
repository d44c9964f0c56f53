// The torn command line: one binary, subcommands dispatched from a table (main.cc). Each command is a
// function from its arguments to an exit status; these are the named exit statuses of the contract
// (DESIGN.md, "Command line") that CI scripts rely on.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"

namespace torn::cli {

inline constexpr int kExitOk = 0;           // nothing found / success
inline constexpr int kExitViolations = 1;   // check, gate: violations found
inline constexpr int kExitBadInput = 2;     // bad input, bad usage, or an error that stopped the run
inline constexpr int kExitInterrupted = 130;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(std::vector<std::string> args);  // args exclude "torn" and the command name
};

// The table, in the order `torn --help` lists it.
const std::vector<Command>& Commands();

// Prints "torn: <message>" on stderr and returns the exit status for the status's code.
int ReportError(const Status& status);

// Parses args with a CLI11 app named "torn <command>". Returns -1 when parsing succeeded and the command
// should go on, else the exit status to return (0 after --help, kExitBadInput on a usage error).
int ParseArgs(CLI::App& app, std::vector<std::string> args);

// True when stderr is a terminal (progress bars) rather than a pipe or a CI log (plain lines).
bool StderrIsTty();

// The commands, one file each (cmd_<name>.cc).
int RunInfo(std::vector<std::string> args);
int RunReplay(std::vector<std::string> args);
int RunImport(std::vector<std::string> args);
int RunRecord(std::vector<std::string> args);
int RunMark(std::vector<std::string> args);
int RunStates(std::vector<std::string> args);
int RunCheck(std::vector<std::string> args);
int RunMerge(std::vector<std::string> args);
int RunGate(std::vector<std::string> args);
int RunExplain(std::vector<std::string> args);
int RunReport(std::vector<std::string> args);
int RunFuzz(std::vector<std::string> args);

}  // namespace torn::cli
