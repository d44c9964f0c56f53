// Differential libFuzzer target for in-process journal recovery (ext4/recovery.h): the input is the
// journal region of a real crash state (recovery_fuzz_input.h), spliced into a fixed base image (a
// crash state of corpus/ext4-default that needs recovery, named by $TORN_RECOVERY_BASE; fuzz/run.sh
// makes it with `torn replay`). Each input runs Recover and the real `e2fsck -E journal_only -y` with
// its clock fixed (ext4/recovery_check.h) and aborts on any difference, outside the stamped fields,
// between what the two write, whenever Recover does not call the image unsupported. A crash or a hang
// of Recover is a finding too (libFuzzer's -timeout).
//
// Bounds and quiet, and why:
//   - inputs larger than 1 + kMaxBlocks blocks are refused (-1): the base state's log uses 42 blocks,
//     and longer inputs only slow e2fsck down;
//   - e2fsck runs with a time limit; its output is captured and printed only with a difference;
//     Recover prints nothing. Every exec costs an e2fsck run (~10 ms): this target finds semantic
//     differences, not memory bugs at a high rate.
//   - the image is put back after each input from e2fsck's own undo file (checker/undo_file.h, compiled
//     in: the checker library's other parts are not needed), or copied again from the base when
//     e2fsck did not finish.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "base/fd.h"
#include "base/sparse_file.h"
#include "base/temp_file.h"
#include "checker/undo_file.h"
#include "ext4/jbd2_format.h"
#include "ext4/recovery.h"
#include "ext4/recovery_check.h"
#include "fuzz/recovery_fuzz_input.h"

namespace {

using namespace torn;
namespace jbd2 = torn::ext4::jbd2;

struct Fixture {
  std::string base_path;
  UniqueFd base;
  uint64_t bytes = 0;
  fuzz::JournalLocation journal;
  std::vector<std::vector<std::byte>> base_blocks;  // the base's journal blocks
  TempDir dir;
  std::string scratch, undo;
};
Fixture* g = nullptr;
// Outcomes seen, printed at exit: how much of the search got past the checksums, and the most
// frequent reasons for unsupported (with their numbers blanked).
uint64_t g_outcomes[4] = {};
std::map<std::string, uint64_t>* g_reasons = nullptr;
void PrintOutcomes() {
  std::fprintf(stderr,
               "recovery_fuzzer: outcomes: no-journal %llu, clean %llu, replayed %llu, unsupported %llu\n",
               (unsigned long long)g_outcomes[0], (unsigned long long)g_outcomes[1],
               (unsigned long long)g_outcomes[2], (unsigned long long)g_outcomes[3]);
  std::vector<std::pair<uint64_t, std::string>> top;
  for (const auto& [why, n] : *g_reasons) top.emplace_back(n, why);
  std::sort(top.rbegin(), top.rend());
  for (size_t i = 0; i < top.size() && i < 8; ++i)
    std::fprintf(stderr, "recovery_fuzzer: unsupported x%llu: %s\n", (unsigned long long)top[i].first,
                 top[i].second.c_str());
}
std::string Blank(const std::string& why) {
  std::string out;
  for (size_t i = 0; i < why.size(); ++i) {
    bool digit = std::isdigit(uint8_t(why[i])) && (i == 0 || !std::isalpha(uint8_t(why[i - 1])));
    if (!digit) {
      out += why[i];
      continue;
    }
    while (i + 1 < why.size() && std::isxdigit(uint8_t(why[i + 1]))) ++i;
    if (i + 1 < why.size() && why[i + 1] == 'x') i += 1;  // 0x...
    while (i + 1 < why.size() && std::isxdigit(uint8_t(why[i + 1]))) ++i;
    out += 'N';
  }
  return out;
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "recovery_fuzzer: %s\n", why.c_str());
  std::abort();
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) Die(std::string(what) + ": " + st.message());
}

void ResetScratch() {
  auto fd = OpenFile(g->scratch, O_RDWR | O_CREAT | O_TRUNC);
  Check(fd.status(), "scratch image");
  if (ftruncate(fd->get(), off_t(g->bytes)) != 0) Die("ftruncate scratch");
  Check(SparseCopy(g->base.get(), fd->get(), g->bytes), "copy of the base image");
}

uint32_t Crc32c(uint32_t seed, const std::byte* p, size_t n) {
  return ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char*>(p), n);
}

// Recomputes the checksums `flags` asks for, with the (possibly mutated) journal super block's
// features and uuid, as jbd2 would have written them.
void Fixup(std::vector<std::vector<std::byte>>& blocks, uint8_t flags) {
  std::vector<std::byte>& sb = blocks[0];
  const uint32_t bs = uint32_t(sb.size());
  jbd2::Features f{jbd2::Be32(sb.data() + jbd2::kSbFeatureCompat),
                   jbd2::Be32(sb.data() + jbd2::kSbFeatureIncompat), 0};
  if (!f.csum_v2or3()) return;
  const uint32_t seed = Crc32c(~0u, sb.data() + jbd2::kSbUuid, 16);
  for (size_t i = 1; i < blocks.size(); ++i) {
    std::byte* b = blocks[i].data();
    if (jbd2::Be32(b) != jbd2::kMagic) continue;
    uint32_t type = jbd2::Be32(b + 4);
    if (type == jbd2::kDescriptor && (flags & fuzz::kFixTagChecksums)) {
      std::byte seq[4];
      std::memcpy(seq, b + 8, 4);
      size_t data = i + 1;
      for (size_t off = 12; off + f.tag_bytes() <= bs - 4 && data < blocks.size(); ++data) {
        std::byte* tag = b + off;
        uint32_t csum = Crc32c(Crc32c(seed, seq, 4), blocks[data].data(), bs);
        uint16_t tflags = jbd2::Be16(tag + jbd2::kTagFlags16);
        if (f.csum_v3()) {
          jbd2::PutBe32(tag + jbd2::kTag3Checksum, csum);
        } else {
          tag[4] = std::byte(csum >> 8), tag[5] = std::byte(csum);
        }
        off += f.tag_bytes() + ((tflags & jbd2::kFlagSameUuid) ? 0 : 16);
        if (tflags & jbd2::kFlagLastTag) break;
      }
    }
    if ((type == jbd2::kDescriptor || type == jbd2::kRevoke) && (flags & fuzz::kFixBlockTails)) {
      jbd2::PutBe32(b + bs - 4, 0);
      jbd2::PutBe32(b + bs - 4, Crc32c(seed, b, bs));
    }
    if (type == jbd2::kCommit && (flags & fuzz::kFixBlockTails)) {
      jbd2::PutBe32(b + jbd2::kCommitChecksum, 0);
      jbd2::PutBe32(b + jbd2::kCommitChecksum, Crc32c(seed, b, bs));
    }
  }
  if (flags & fuzz::kFixJournalSuper) {
    jbd2::PutBe32(sb.data() + jbd2::kSbChecksum, 0);
    jbd2::PutBe32(sb.data() + jbd2::kSbChecksum, Crc32c(~0u, sb.data(), jbd2::kSuperBytes));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g = new Fixture;
  const char* base = std::getenv("TORN_RECOVERY_BASE");
  if (!base) Die("set TORN_RECOVERY_BASE to a crash-state image of corpus/ext4-default (fuzz/run.sh does)");
  g->base_path = base;
  auto fd = OpenFile(g->base_path, O_RDONLY);
  Check(fd.status(), "base image");
  g->base = std::move(fd).value();
  auto size = FileSize(g->base.get());
  Check(size.status(), "base image size");
  g->bytes = *size;
  g->journal = fuzz::LocateJournal(g->base_path);
  if (!g->journal.error.empty()) Die(g->journal.error);
  for (uint64_t phys : g->journal.blocks) {
    std::vector<std::byte> b(g->journal.block_size);
    Check(PreadFull(g->base.get(), b, phys * g->journal.block_size), "base journal block");
    g->base_blocks.push_back(std::move(b));
  }
  auto dir = TempDir::Create("torn-recovery-fuzz-", "/dev/shm");
  Check(dir.status(), "scratch directory");
  g->dir = std::move(dir).value();
  g->scratch = g->dir.path() + "/state.img";
  g->undo = g->dir.path() + "/e2fsck.undo";
  ResetScratch();
  g_reasons = new std::map<std::string, uint64_t>;
  std::atexit(PrintOutcomes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint32_t bs = g->journal.block_size;
  if (size < 1 || size > 1 + size_t(bs) * g->base_blocks.size()) return -1;
  const uint8_t flags = data[0];
  std::vector<std::vector<std::byte>> blocks = g->base_blocks;
  for (size_t off = 0; off + 1 < size; ++off) blocks[off / bs][off % bs] = std::byte(data[1 + off]);
  Fixup(blocks, flags);
  {
    auto fd = OpenFile(g->scratch, O_RDWR);
    Check(fd.status(), "scratch image");
    for (size_t i = 0; i < blocks.size(); ++i)
      Check(PwriteFull(fd->get(), blocks[i], g->journal.blocks[i] * bs), "splice");
  }

  auto fd = OpenFile(g->scratch, O_RDONLY);
  Check(fd.status(), "scratch image");
  ext4::ImageView view(fd->get(), g->bytes);
  auto r = ext4::Recover(view);
  Check(r.status(), "Recover");
  const bool supported = r->outcome != ext4::RecoveryOutcome::kUnsupported;
  ++g_outcomes[int(r->outcome)];
  if (!supported) ++(*g_reasons)[Blank(r->why)];

  unlink(g->undo.c_str());
  auto run = ext4::RunE2fsckJournalOnly(g->scratch, g->undo, std::chrono::seconds(20));
  Check(run.status(), "e2fsck");
  auto record = checker::ReadUndoFile(g->undo);
  if (!record.ok() || !record->finished || run->status.how != ExitStatus::How::kExited) {
    if (supported)
      Die("e2fsck did not finish (" + run->status.describe() + ") where Recover says " +
          std::string(ext4::OutcomeName(r->outcome)) + "\n" + run->output);
    ResetScratch();
    return 0;
  }
  ext4::E2fsckRecovery e2;
  e2.exit = run->status;
  e2.output = run->output;
  ext4::ImageView before(fd->get(), g->bytes);
  for (auto it = record->regions.rbegin(); it != record->regions.rend(); ++it)
    before.Put(it->offset, it->bytes);
  for (const auto& region : record->regions) {
    ext4::E2fsckRegion er;
    er.offset = region.offset;
    er.after.resize(region.bytes.size());
    Check(PreadFull(fd->get(), er.after, region.offset), "e2fsck's bytes");
    e2.regions.push_back(std::move(er));
  }
  auto diffs = ext4::CompareRecovery(*r, e2, before);
  Check(diffs.status(), "CompareRecovery");
  if (!diffs->empty())
    Die("Recover (" + std::string(ext4::OutcomeName(r->outcome)) +
        ") differs from e2fsck: " + ext4::DescribeDifferences(*diffs) + "\n" + run->output);
  // Put back what e2fsck wrote (the earliest saved bytes of a block last).
  auto wfd = OpenFile(g->scratch, O_RDWR);
  Check(wfd.status(), "scratch image");
  for (auto it = record->regions.rbegin(); it != record->regions.rend(); ++it)
    Check(PwriteFull(wfd->get(), it->bytes, it->offset), "restore");
  if (ftruncate(wfd->get(), off_t(g->bytes)) != 0) Die("ftruncate scratch");  // a write past the end
  return 0;
}
