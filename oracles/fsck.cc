#include "oracles/fsck.h"

#include "base/fd.h"
#include "base/file_io.h"
#include "base/temp_file.h"

#include <fcntl.h>

#include <algorithm>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>

namespace torn::oracles {

E2fsckExit DecodeE2fsckExit(const ExitStatus& status, std::chrono::milliseconds limit) {
  using K = E2fsckExit::Kind;
  E2fsckExit e;
  switch (status.how) {
    case ExitStatus::How::kTimedOut:
      e.kind = K::kHung;
      e.text = fmt::format("e2fsck hung (killed after {} s)", limit.count() / 1000.0);
      return e;
    case ExitStatus::How::kSignaled:
      e.kind = K::kCrashed;
      e.text = "e2fsck crashed: " + status.describe();
      return e;
    case ExitStatus::How::kInterrupted:
      e.kind = K::kInterrupted;
      e.text = "e2fsck interrupted";
      return e;
    case ExitStatus::How::kExited:
      break;
  }
  e.bits = status.code;
  // The most serious bit decides the kind; the text names every bit that is set.
  struct Bit {
    int bit;
    K kind;
    const char* what;
  };
  static constexpr Bit kBits[] = {
      {128, K::kLibrary, "shared-library error"}, {32, K::kCancelled, "cancelled"},
      {16, K::kUsage, "usage or syntax error"},   {8, K::kOperational, "operational error"},
      {4, K::kUncorrected, "errors left uncorrected"}, {2, K::kCorrected, "corrected, reboot needed"},
      {1, K::kCorrected, "errors corrected"},
  };
  if (e.bits == 0) {
    e.kind = K::kClean;
    e.text = "exit 0: clean";
    return e;
  }
  std::string names;
  bool first = true;
  for (const Bit& b : kBits) {
    if (!(e.bits & b.bit)) continue;
    if (first) e.kind = b.kind;
    names += (first ? "" : ", ") + std::string(b.what);
    first = false;
  }
  if (first || (e.bits & ~(1 | 2 | 4 | 8 | 16 | 32 | 128))) {
    e.kind = K::kOperational;
    names += (first ? "" : ", ") + std::string("unknown exit bits");
  }
  e.text = fmt::format("exit {}: {}", e.bits, names);
  return e;
}

namespace {

struct Step {
  E2fsckExit exit;
  std::string output;
  std::string problems;  // "[problems: 0x020003,0x020047]" or empty
};

// The codes of e2fsck's problem log (`<problem code="0x020047" .../>`, e2fsck/problem.c print_problem),
// sorted, without repeats: what failed, without the inode and block numbers of this image.
std::vector<std::string> ProblemCodes(const std::string& log) {
  std::vector<std::string> codes;
  static constexpr std::string_view kTag = "<problem code=\"";
  for (size_t pos = log.find(kTag); pos != std::string::npos; pos = log.find(kTag, pos)) {
    pos += kTag.size();
    size_t end = log.find('"', pos);
    if (end == std::string::npos) break;
    codes.push_back(log.substr(pos, end - pos));
  }
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

Result<Step> RunStep(const std::vector<std::string>& argv, const FsckOptions& o) {
  SpawnOptions s;
  s.argv = argv;
  s.timeout = o.timeout;
  s.capture_limit = 64 << 10;
  // A configuration of one line: the problem log (e2fsck/logfile.c reads [options]
  // problem_log_filename), so that the verdict names e2fsck's problem codes (kProblemsPrefix).
  // Nothing else: the same image gives the same answer on every machine.
  TORN_ASSIGN_OR_RETURN(TempFile config, TempFile::Create("torn-e2fsck-conf-"));
  TORN_ASSIGN_OR_RETURN(TempFile problems, TempFile::Create("torn-e2fsck-problems-"));
  if (problems.path().find('%') != std::string::npos)  // e2fsck expands % in the name
    return Internal("temporary file name with '%': " + problems.path());
  const std::string text = "[options]\n\tproblem_log_filename = " + problems.path() + "\n";
  TORN_RETURN_IF_ERROR(WriteFull(config.fd(), std::as_bytes(std::span(text))).with_context(config.path()));
  s.env = {"E2FSCK_CONFIG=" + config.path(), "LC_ALL=C"};
  TORN_ASSIGN_OR_RETURN(RunResult r, RunChild(s));
  Step step{DecodeE2fsckExit(r.status, o.timeout), std::move(r.output)};
  if (auto log = ReadFileToString(problems.path()); log.ok()) {
    std::vector<std::string> codes = ProblemCodes(*log);
    if (!codes.empty()) step.problems = fmt::format("{}{}]", kProblemsPrefix, fmt::join(codes, ","));
  }
  using K = E2fsckExit::Kind;
  if (step.exit.kind == K::kInterrupted) return Status(Code::kInterrupted, "interrupted during e2fsck");
  if (step.exit.kind == K::kUsage)
    return Internal(QuoteArgv(argv) + ": " + step.exit.text + "\n" + step.output);
  return step;
}

bool StepFailed(const E2fsckExit& e, bool full_check) {
  using K = E2fsckExit::Kind;
  if (e.kind == K::kClean) return false;
  // Replaying the journal is a correction (bit 1); a full -n check that corrects is impossible.
  if (e.kind == K::kCorrected) return full_check;
  return true;
}

}  // namespace

namespace {

// The ext4 super block's feature words at byte 1024, or nothing when it is unreadable or not ext4.
struct SuperFeatures {
  uint32_t compat = 0, incompat = 0;
};
std::optional<SuperFeatures> ReadSuperFeatures(const std::string& image) {
  auto fd = OpenFile(image, O_RDONLY);
  if (!fd.ok()) return std::nullopt;
  std::byte sb[1024];
  if (!PreadFull(fd->get(), sb, 1024).ok()) return std::nullopt;
  auto le = [&](size_t off, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(sb[off + i]);
    return v;
  };
  if (le(0x38, 2) != 0xEF53) return std::nullopt;
  return SuperFeatures{le(0x5C, 4), le(0x60, 4)};
}

constexpr uint32_t kIncompatRecover = 0x4;
constexpr uint32_t kCompatFastCommit = 0x400;

}  // namespace

bool JournalReplayNeedless(const std::string& image) {
  auto f = ReadSuperFeatures(image);
  return f && !(f->incompat & kIncompatRecover);
}

bool FastCommitRecoveryPending(const std::string& image) {
  auto f = ReadSuperFeatures(image);
  return f && (f->compat & kCompatFastCommit) && (f->incompat & kIncompatRecover);
}

Result<Verdict> ReplayJournal(const std::string& image, const FsckOptions& o) {
  Verdict v;
  v.oracle = Oracle::kFsck;
  if (o.skip_needless_replay && JournalReplayNeedless(image)) {
    v.output += "(journal replay skipped: the super block asks for no recovery)\n";
    return v;
  }
  std::vector<std::string> argv = {o.e2fsck, "-E", "journal_only", "-y", image};
  if (!o.undo_file.empty()) argv.insert(argv.end() - 1, {"-z", o.undo_file});
  TORN_ASSIGN_OR_RETURN(Step s, RunStep(argv, o));
  v.output += "$ " + QuoteArgv(argv) + "\n" + s.output + "[" + s.exit.text + "]\n";
  if (!s.problems.empty()) v.output += s.problems + "\n";
  if (StepFailed(s.exit, false)) {
    v.ok = false;
    v.detail = "journal replay (e2fsck -E journal_only -y): " + s.exit.text;
  }
  return v;
}

Result<Verdict> FullCheck(const std::string& image, const FsckOptions& o) {
  Verdict v;
  v.oracle = Oracle::kFsck;
  std::vector<std::string> argv = {o.e2fsck, "-fn", image};
  TORN_ASSIGN_OR_RETURN(Step s, RunStep(argv, o));
  v.output += "$ " + QuoteArgv(argv) + "\n" + s.output + "[" + s.exit.text + "]\n";
  if (!s.problems.empty()) v.output += s.problems + "\n";
  if (!StepFailed(s.exit, true)) return v;
  v.ok = false;
  v.detail = "e2fsck -fn: " + s.exit.text;
  // The first problem e2fsck printed, to make the one-line detail useful.
  size_t pass = s.output.find("Pass 1");
  for (size_t pos = pass == std::string::npos ? 0 : pass; pos < s.output.size();) {
    size_t nl = s.output.find('\n', pos);
    std::string line = s.output.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? s.output.size() : nl + 1;
    if (line.empty() || line.rfind("Pass ", 0) == 0 || line.rfind("e2fsck ", 0) == 0) continue;
    v.detail += " (" + line + ")";
    break;
  }
  return v;
}

Result<Verdict> RunFsck(const std::string& image, const FsckOptions& o) {
  Verdict v;
  v.oracle = Oracle::kFsck;
  if (o.journal_replay) {
    TORN_ASSIGN_OR_RETURN(v, ReplayJournal(image, o));
    if (!v.ok) return v;
  }
  if (o.full_check) {
    TORN_ASSIGN_OR_RETURN(Verdict full, FullCheck(image, o));
    full.output = v.output + full.output;
    return full;
  }
  return v;
}

}  // namespace torn::oracles
