#include "fuzz/workload_campaign.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/temp_file.h"
#include "campaign/campaign.h"
#include "campaign/record_batch.h"
#include "checker/run.h"
#include "checker/setup.h"

namespace torn::fuzz {
namespace {

uint64_t Bucket(uint64_t n) {
  uint64_t b = 0;
  while (n) n >>= 1, ++b;
  return b;  // 0, 1, 2-3, 4-7, ...
}

uint64_t Hash(std::string_view s) { return std::hash<std::string_view>()(s); }

std::string BlankNumbers(std::string_view line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(line[i]))) {
      while (i + 1 < line.size() && std::isalnum(static_cast<unsigned char>(line[i + 1]))) ++i;
      out += 'N';
    } else {
      out += line[i];
    }
  }
  return out;
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

RecordModeEnv RecordModeFromEnv() {
  RecordModeEnv e;
  const char* on = std::getenv("TORN_FUZZ_RECORD");
  e.enabled = on && std::string_view(on) == "1";
  auto str = [](const char* n) { const char* v = std::getenv(n); return std::string(v ? v : ""); };
  e.mode.mount_opts = str("TORN_FUZZ_MOUNT_OPTS");
  e.mode.mkfs_opts = str("TORN_FUZZ_MKFS_OPTS");
  e.mode.keep = str("TORN_FUZZ_KEEP");
  e.mode.states = EnvNumber("TORN_FUZZ_STATES", 300);
  e.mode.check_seconds = static_cast<int>(EnvNumber("TORN_FUZZ_CHECK_TIME", 60));
  return e;
}

Result<std::vector<std::string>> RecordAndCheck(const std::string& text, const RecordMode& mode,
                                                const FeatureSink& feature) {
  TORN_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create("torn-workload-fuzz-", "/tmp"));
  const std::string trace = dir.path() + "/w";
  // The campaign's own options (torn fuzz's), so that a workload is recorded and checked as there.
  campaign::CampaignOptions o;
  o.mount_opts = mode.mount_opts;
  o.mkfs_opts = mode.mkfs_opts;
  o.states_per_workload = mode.states;
  o.check_time = std::chrono::seconds(mode.check_seconds);
  TORN_ASSIGN_OR_RETURN(campaign::BatchResult rec,
                        campaign::RecordBatch(campaign::CampaignBatchOptions(o), {{text, trace}}));
  const campaign::ItemResult& item = rec.items.at(0);
  if (!item.status.ok()) return item.status.with_context("recording the workload");
  for (const auto& f : item.op_failures) feature(Mix({20, Hash(BlankNumbers(f))}));

  checker::CheckOptions co = campaign::CampaignCheckOptions(o, trace, /*mount=*/false);
  if (auto setup = checker::Prepare(checker::SetupOptionsOf(co)); setup.ok() && setup->ordering) {
    for (const auto& t : setup->ordering->map().transactions)
      feature(Mix({21, Bucket(t.descriptors.size()), Bucket(t.revokes.size()), Bucket(t.data.size()),
                   t.commit != ext4::kNoEntry}));
  }
  TORN_ASSIGN_OR_RETURN(checker::CheckResult check, checker::RunCheck(co));
  for (const auto& w : check.windows)
    feature(Mix({22, Bucket(w.fixed), Bucket(w.classes), Bucket(w.generated)}));
  // A window's block-role pattern: how many of its writes each rule fixed, and how many stayed free.
  for (const auto& [segment, units] : check.window_units) {
    std::string pattern;
    for (const auto& [rule, n] : units) pattern += rule + "=" + std::to_string(Bucket(n)) + " ";
    feature(Mix({26, Hash(pattern)}));
  }
  feature(Mix({23, Bucket(std::strtoull(check.classes.c_str(), nullptr, 10))}));
  std::set<std::string> signatures;
  for (const auto& v : check.violations) {
    std::string sig = std::string(oracles::OracleName(v.oracle)) + ": " + campaign::FindingSignature(v);
    feature(Mix({24, Hash(sig)}));
    signatures.insert(sig);
    if (v.oracle != oracles::Oracle::kFsck) continue;
    size_t at = 0;
    while (at < v.detail.size()) {
      size_t nl = v.detail.find('\n', at);
      if (nl == std::string::npos) nl = v.detail.size();
      feature(Mix({25, Hash(BlankNumbers(std::string_view(v.detail).substr(at, nl - at)))}));
      at = nl + 1;
    }
  }
  if (!signatures.empty() && !mode.keep.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(mode.keep, ec);
    std::string kept = mode.keep + "/trace-" + std::to_string(Hash(text));
    std::filesystem::remove_all(kept, ec);
    std::filesystem::rename(trace, kept, ec);
    if (!ec) signatures.insert("(trace kept in " + kept + ")");
  }
  return std::vector<std::string>(signatures.begin(), signatures.end());
}

}  // namespace torn::fuzz
