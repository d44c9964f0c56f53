// torn gate against loop drivers rebuilt from Debian's source (label vm; docs/gate.md, "Mutants"):
// each variant of gate/loop_variants/ is built by scripts/build-loop-variant.sh against the headers of
// the lab kernel, loaded in the lab VM through --modules, and gated. A bug mutant must fail (exit 1) at
// the budget docs/gate.md's mutation table names as enough; the stock driver and the legal variants
// must pass (exit 0) at the default budget. Every run checks that the guest ran the rebuilt module: the
// gate reports /sys/module/loop as the guest saw it (loop_module), which must name the taint flags of
// an unsigned out-of-tree module (OE) and the version the build script stamps (torn-VARIANT).
//
// Needs linux-source-6.1 and linux-headers-<release of the lab kernel> (scripts/install-deps.sh).
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "base/temp_file.h"
#include "lab/kernel.h"
#include "tests/test_util.h"

namespace torn::testing {
namespace {

struct Case {
  const char* variant;  // gate/loop_variants/<variant>.diff, or "stock"
  const char* mode;     // --loop-mode
  uint64_t budget;      // 0: the default
  int exit_code;        // 1: a bug the gate must catch; 0: legal, the gate must pass
  const char* level;    // for a failing run: a level that must fail ("inner", "outer")
  const char* outer = "ext4";  // --outer
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.variant << "/" << c.mode << "/" << c.outer; }

// The budgets are the mutation table's "CI budget" (docs/gate.md): a margin above the smallest
// budget measured to fail.
const Case kCases[] = {
    {"stock", "buffered", 0, 0, ""},
    {"stock", "direct", 0, 0, ""},
    {"a-flush-noop", "buffered", 50, 1, "inner"},
    {"a-flush-noop", "direct", 50, 1, "inner"},
    {"b-write-early", "buffered", 50, 1, "inner"},
    {"b-write-early", "direct", 50, 1, "inner"},
    {"c-flush-async", "buffered", 50, 1, "inner"},
    {"c-flush-async", "direct", 50, 1, "inner"},
    {"d-flush-half", "buffered", 50, 1, "inner"},
    {"e-reorder", "buffered", 0, 0, ""},
    {"e-reorder", "direct", 0, 0, ""},
    {"f-flush-no-wait", "buffered", 0, 0, ""},
    {"f-flush-no-wait", "direct", 0, 0, ""},
    // every second flush lost: caught by the promises of single fsyncs (docs/gate.md), in buffered
    // mode by the inner data oracle only
    {"g-flush-every-other", "buffered", 100, 1, "inner"},
    {"g-flush-every-other", "direct", 50, 1, "inner"},
    // --outer xfs (no nobarrier to inject since Linux 4.19): a driver whose flush does nothing fails
    {"a-flush-noop", "buffered", 50, 1, "inner", "xfs"},
};

// Builds each variant once per test process; returns its lib/modules/<release>.
std::string BuildVariant(const std::string& variant, const std::string& root) {
  static std::mutex mu;
  static std::map<std::string, std::string> built;
  std::lock_guard lock(mu);
  if (auto it = built.find(variant); it != built.end()) return it->second;
  // The lab kernel in torn's cache (fetched on first use): the script builds against its headers.
  auto kernel = lab::DebianKernel(nullptr);
  if (!kernel.ok()) throw std::runtime_error(kernel.status().message());
  auto run = RunChild({.argv = {std::string(TORN_SOURCE_DIR) + "/scripts/build-loop-variant.sh", variant,
                                root + "/" + variant, kernel->modules_dir},
                       .timeout = std::chrono::seconds(300)});
  if (!run.ok()) throw std::runtime_error(run.status().message());
  EXPECT_TRUE(run->status.success()) << run->output;
  std::string out = run->output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::string dir = out.substr(out.rfind('\n') + 1);
  built[variant] = dir;
  return dir;
}

class GateMutants : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { root_ = new TempDir(TempDir::Create("torn-e2e-loop-variants-").value()); }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  static TempDir* root_;
};
TempDir* GateMutants::root_ = nullptr;

TEST_P(GateMutants, Verdict) {
  const Case& c = GetParam();
  std::string modules = BuildVariant(c.variant, root_->path());
  ASSERT_FALSE(modules.empty());
  std::string expected_module = std::string("taint=OE version=torn-") + c.variant;
  std::vector<std::string> args = {TORN_BINARY, "gate", "--modules", modules, "--loop-mode", c.mode,
                                   "--outer", c.outer, "--json"};
  if (c.budget) args.insert(args.end(), {"--budget", std::to_string(c.budget)});
  auto run = RunChild({.argv = args, .timeout = std::chrono::seconds(900), .capture_limit = size_t{256} << 20});
  ASSERT_TRUE(run.ok()) << run.status().message();
  const std::string& out = run->output;
  ASSERT_EQ(run->status.code, c.exit_code) << out.substr(out.size() > 8000 ? out.size() - 8000 : 0);
  size_t at = out.find("\n{\n");
  ASSERT_NE(at, std::string::npos);
  auto json = nlohmann::json::parse(out.substr(at + 1), nullptr, false);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["loop_mode"], c.mode);
  EXPECT_EQ(json["outer_fs"], c.outer);
  EXPECT_EQ(json["loop_module"], expected_module);  // the guest ran the loop.ko built here
  if (c.exit_code == 0) {
    EXPECT_TRUE(json["violations"].empty());
  } else {
    bool level = false;
    for (const auto& v : json["violations"]) level = level || v["level"] == c.level;
    EXPECT_TRUE(level) << "no " << c.level << "-level violation";
  }
}

INSTANTIATE_TEST_SUITE_P(LoopVariants, GateMutants, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = std::string(i.param.variant) + "_" + i.param.mode;
                           if (std::string_view(i.param.outer) != "ext4") n += std::string("_") + i.param.outer;
                           for (char& ch : n) if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace torn::testing
