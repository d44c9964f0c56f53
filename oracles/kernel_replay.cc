#include "oracles/kernel_replay.h"

#include <utility>

namespace torn::oracles {

AfterKernel JudgeAfterKernel(KernelReplayJudge what) {
  return [what = std::move(what)](const std::string& image, const Verdict& full_check) -> Result<std::vector<Verdict>> {
    std::vector<Verdict> out;
    if (what.fsck) {
      Verdict v = full_check;
      v.oracle = Oracle::kFsck;
      v.output = "(journal replayed by the kernel: the file system has fast_commit)\n" + v.output;
      if (!v.ok) v.detail = "after the kernel's journal replay: " + v.detail;
      out.push_back(std::move(v));
    }
    if (what.data) {
      Verdict v = CheckData(image, what.applies);
      v.output = "(journal replayed by the kernel: the file system has fast_commit)\n" + v.output;
      out.push_back(std::move(v));
    }
    return out;
  };
}

std::vector<Verdict> KernelReplayVerdicts(const Verdict& mount, std::vector<Verdict> after,
                                          const KernelReplayJudge& what) {
  if (!after.empty()) return after;
  std::vector<Verdict> out;
  for (auto [asked, oracle] : {std::pair{what.fsck, Oracle::kFsck}, std::pair{what.data, Oracle::kData}}) {
    if (!asked) continue;
    Verdict v;
    v.oracle = oracle;
    v.ok = false;
    v.detail = "the kernel's journal replay failed: " + mount.detail;
    v.output = mount.output;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace torn::oracles
