// jbd2_journal_recover's three passes as e2fsprogs 1.47.0 runs them (e2fsck/recovery.c do_one_pass,
// calc_chksums, scan_revoke_records, fc_do_one_pass; e2fsck/revoke.c; e2fsck/journal.c
// ext4_fc_replay_scan). The rules, in the order do_one_pass applies them to each log block:
//
//   1. A pass walks the log from s_start expecting transaction s_sequence. Each block read moves the
//      position on by one, wrapping from the end of the log (j_last; j_fc_last, that is s_maxlen, when
//      the journal has fast_commit: 1.47.0 wraps there) back to s_first. A block without the jbd2
//      magic, or whose h_sequence is not the expected transaction, ends the pass.
//   2. Descriptor: with csum v2/v3 its tail checksum is verified; a mismatch in the scan only marks
//      the transaction for a commit-time check (stale blocks of a lazily initialised journal), in the
//      later passes it aborts recovery (-EFSBADCRC). The scan skips its tagged blocks, or with the v1
//      COMPAT_CHECKSUM feature folds them into a crc32 (big-endian); the replay pass writes each tagged
//      block home unless a revoke record of this or a later transaction names it (revoke.c: a record
//      keeps the latest transaction), or its tag checksum (v2: low 16 bits, v3: 32 bits, crc32c of the
//      sequence then the block) fails: then the block is skipped and recovery ends with -EFSBADCRC.
//      An escaped block gets the magic back in its first four bytes.
//   3. Commit: in the scan, a v1 checksum or v2/v3 commit checksum that fails ends the replayed range
//      before this transaction and records it as j_failed_commit (with ASYNC_COMMIT the scan goes on,
//      and a v1 commit after that records the failed one); a failure whose commit time is older than
//      the previous commit's is taken as a stale block and ends the scan quietly. After a descriptor
//      or revoke checksum failure, the next commit decides: a commit time not older than the previous
//      one is journal corruption (-EFSBADCRC), an older one a stale block (the scan ends there).
//   4. Revoke: checksum failures in the scan mark the commit-time check (as 2); the revoke pass records
//      each block number (4 bytes, 8 with 64bit) with the transaction; r_count beyond the block is
//      -EINVAL.
//   5. The later passes stop at the transaction the scan ended at; ending elsewhere is -EIO.
//   6. Fast commit (the journal has fast_commit and the file system too): after the scan and the
//      replay pass, the first fast-commit block is read; no head tag ends it there. A head tag with
//      unknown features (-EOPNOTSUPP) or another transaction id (-EINVAL) fails recovery; a head tag
//      for the expected transaction would start a fast-commit replay, which torn does not emulate.
// Where e2fsck's do_one_pass says `break` inside its switch (a failed commit, a v1 checksum read
// failure) it leaves the switch only: the walk goes on with the next block, which normally belongs to
// another transaction and so ends it. Followed literally here. A pass that keeps reading blocks of one
// transaction longer than the log is long would loop forever in e2fsck; it is reported as unsupported
// rather than followed.
#include <fmt/core.h>

#include <cstring>
#include <unordered_map>

#include "ext4/recovery_internal.h"

namespace torn::ext4::recovery {
namespace {

enum class Pass { kScan, kRevoke, kReplay };

class Passes {
 public:
  Passes(ext2_filsys fs, Journal& j, Disk& disk, PassInfo& info)
      : fs_(fs), j_(j), disk_(disk), info_(info), bs_(j.block_size), tag_bytes_(j.features.tag_bytes()) {}

  Result<int> Run() {
    TORN_ASSIGN_OR_RETURN(int err, DoOnePass(Pass::kScan));
    if (!err) {
      TORN_ASSIGN_OR_RETURN(err, DoOnePass(Pass::kRevoke));
    }
    if (!err) {
      TORN_ASSIGN_OR_RETURN(err, DoOnePass(Pass::kReplay));
    }
    return err;
  }

 private:
  void Wrap(uint64_t& var) const {
    uint64_t last = j_.wrap_last();
    if (var >= last) var -= (last - j_.first);
  }

  Result<int> Read(uint64_t offset, std::vector<std::byte>& out) {
    return ReadJournalBlock(fs_, j_, disk_, uint32_t(offset), out);  // jread takes an unsigned int
  }

  bool BlockTailOk(const std::vector<std::byte>& b) const {
    if (!j_.csum_v2or3()) return true;
    std::vector<std::byte> copy = b;
    std::memset(copy.data() + bs_ - jbd2::kBlockTailBytes, 0, jbd2::kBlockTailBytes);
    return jbd2::Be32(b.data() + bs_ - jbd2::kBlockTailBytes) == Crc32c(j_.csum_seed, copy);
  }

  bool CommitOk(const std::vector<std::byte>& b) const {
    if (!j_.csum_v2or3()) return true;
    std::vector<std::byte> copy = b;
    std::memset(copy.data() + jbd2::kCommitChecksum, 0, 4);
    return jbd2::Be32(b.data() + jbd2::kCommitChecksum) == Crc32c(j_.csum_seed, copy);
  }

  bool TagOk(const std::byte* tag, const std::vector<std::byte>& data, uint32_t sequence) const {
    if (!j_.csum_v2or3()) return true;
    std::byte seq[4];
    jbd2::PutBe32(seq, sequence);
    uint32_t csum = Crc32c(Crc32c(j_.csum_seed, seq), data);
    if (j_.features.csum_v3()) return jbd2::Be32(tag + jbd2::kTag3Checksum) == csum;
    return jbd2::Be16(tag + jbd2::kTag2Checksum) == uint16_t(csum);
  }

  // count_tags: tags in a descriptor, up to LAST_TAG or the block's end.
  int CountTags(const std::vector<std::byte>& b) const {
    size_t size = bs_ - (j_.csum_v2or3() ? jbd2::kBlockTailBytes : 0);
    int nr = 0;
    for (size_t off = 12; off + tag_bytes_ <= size;) {
      uint16_t flags = jbd2::Be16(b.data() + off + jbd2::kTagFlags16);
      ++nr;
      off += tag_bytes_;
      if (!(flags & jbd2::kFlagSameUuid)) off += 16;
      if (flags & jbd2::kFlagLastTag) break;
    }
    return nr;
  }

  // calc_chksums: false when a block cannot be read (the scan ends there).
  Result<bool> CalcChecksums(const std::vector<std::byte>& desc, uint64_t& next, uint32_t& crc) {
    int n = CountTags(desc);
    crc = Crc32Be(crc, desc);
    std::vector<std::byte> b;
    for (int i = 0; i < n; ++i) {
      uint64_t io_block = next++;
      Wrap(next);
      TORN_ASSIGN_OR_RETURN(int err, Read(io_block, b));
      if (err) return false;
      crc = Crc32Be(crc, b);
    }
    return true;
  }

  void SetRevoke(uint64_t block, uint32_t sequence) {
    auto [it, fresh] = revoked_.try_emplace(block, sequence);
    if (!fresh && jbd2::TidGt(sequence, it->second)) it->second = sequence;
  }

  bool TestRevoke(uint64_t block, uint32_t sequence) const {
    auto it = revoked_.find(block);
    return it != revoked_.end() && !jbd2::TidGt(sequence, it->second);
  }

  // scan_revoke_records: 0 or -EINVAL.
  int ScanRevoke(const std::vector<std::byte>& b, uint32_t sequence) {
    uint32_t count = jbd2::Be32(b.data() + jbd2::kRevokeCount);
    size_t csum_size = j_.csum_v2or3() ? jbd2::kBlockTailBytes : 0;
    if (count > bs_ - csum_size) return -EINVAL;
    size_t rec = j_.features.is64() ? 8 : 4;
    for (size_t off = jbd2::kRevokeRecords; off + rec <= count; off += rec) {
      uint64_t block = rec == 4 ? jbd2::Be32(b.data() + off) : jbd2::Be64(b.data() + off);
      SetRevoke(block, sequence);
      ++info_.revokes;
    }
    return 0;
  }

  // The replay of one descriptor's blocks; returns the pass's `success` after it.
  Result<int> ReplayTags(const std::vector<std::byte>& desc, uint64_t& next, uint32_t sequence, int success,
                         bool& block_error, size_t descr_csum_size) {
    std::vector<std::byte> data;
    for (size_t off = 12; off + tag_bytes_ <= bs_ - descr_csum_size;) {
      const std::byte* tag = desc.data() + off;
      uint16_t flags = jbd2::Be16(tag + jbd2::kTagFlags16);
      uint64_t io_block = next++;
      Wrap(next);
      TORN_ASSIGN_OR_RETURN(int err, Read(io_block, data));
      if (err) {
        success = err;  // recover what we can, report failure at the end
      } else {
        uint64_t home = jbd2::Be32(tag);
        if (j_.features.is64() && off + jbd2::kTagBlocknrHigh + 4 <= bs_)
          home |= uint64_t(jbd2::Be32(tag + jbd2::kTagBlocknrHigh)) << 32;
        if (TestRevoke(home, sequence)) {
          ++info_.revoke_hits;
        } else if (!TagOk(tag, data, sequence)) {
          success = -kEfsBadCrc;
          block_error = true;
        } else {
          if (flags & jbd2::kFlagEscape) jbd2::PutBe32(data.data(), jbd2::kMagic);
          Status st = disk_.WriteBlock(home, data);
          if (IsUnsupported(st))
            return Unsupported(
                fmt::format("transaction {} replays journal block {} to block {}, past the "
                            "image's end",
                            sequence, io_block, home));
          TORN_RETURN_IF_ERROR(st);
          ++info_.replays;
        }
      }
      off += tag_bytes_;
      if (!(flags & jbd2::kFlagSameUuid)) off += 16;
      if (flags & jbd2::kFlagLastTag) break;
    }
    return success;
  }

  // fc_do_one_pass with e2fsck's callback, as far as torn follows it (rule 6).
  Result<int> FastCommitPass(Pass pass) {
    if (!j_.fc_callback) return 0;
    uint64_t next = j_.fc_first;
    if (next > j_.fc_last) return 0;
    std::vector<std::byte> b;
    TORN_ASSIGN_OR_RETURN(int err, Read(next, b));
    if (err) return err;
    if (pass != Pass::kScan) return 0;  // the scan found nothing to replay: JBD2_FC_REPLAY_STOP
    auto le16 = [&](size_t o) { return uint16_t(uint8_t(b[o]) | (uint8_t(b[o + 1]) << 8)); };
    auto le32 = [&](size_t o) { return uint32_t(le16(o)) | (uint32_t(le16(o + 2)) << 16); };
    if (le16(0) != jbd2::kFcTagHead) return 0;
    if (le32(4) & ~jbd2::kFcSupportedFeatures) return -EOPNOTSUPP;
    if (le32(8) != info_.end_transaction) return -EINVAL;
    return Unsupported(
        fmt::format("the fast-commit area (journal block {}) starts a fast commit for transaction "
                    "{}: fast-commit replay is not emulated",
                    next, info_.end_transaction));
  }

  Result<int> DoOnePass(Pass pass) {
    uint32_t next_commit = j_.sb32(jbd2::kSbSequence);
    uint64_t next = j_.sb32(jbd2::kSbStart);
    if (pass == Pass::kScan) info_.start_transaction = next_commit;
    int success = 0;
    uint32_t crc = ~0u;
    size_t descr_csum_size = 0;
    bool block_error = false, need_check_commit_time = false;
    uint64_t last_commit_time = 0;
    uint64_t steps = 0;  // blocks read since the last commit (rule: a loop is unsupported)
    const uint64_t loop_limit = 4 * uint64_t(j_.total_len) + 64;
    std::vector<std::byte> b;

    while (true) {
      if (pass != Pass::kScan && jbd2::TidGeq(next_commit, info_.end_transaction)) break;
      if (++steps > loop_limit)
        return Unsupported(
            fmt::format("transaction {}: the log loops back on itself (journal block {}): e2fsck "
                        "would never end",
                        next_commit, next));
      TORN_ASSIGN_OR_RETURN(int err, Read(next, b));
      if (err) return err;
      ++next;
      Wrap(next);
      if (jbd2::Be32(b.data()) != jbd2::kMagic) break;
      uint32_t type = jbd2::Be32(b.data() + 4), sequence = jbd2::Be32(b.data() + 8);
      if (sequence != next_commit) break;

      if (type == jbd2::kDescriptor) {
        if (j_.csum_v2or3()) descr_csum_size = jbd2::kBlockTailBytes;
        if (descr_csum_size > 0 && !BlockTailOk(b)) {
          if (pass != Pass::kScan) return -kEfsBadCrc;
          need_check_commit_time = true;
        }
        if (pass != Pass::kReplay) {
          if (pass == Pass::kScan && (j_.features.compat & jbd2::kCompatChecksum) &&
              !need_check_commit_time && !info_.end_transaction) {
            TORN_ASSIGN_OR_RETURN(bool ok, CalcChecksums(b, next, crc));
            (void)ok;  // a read failure leaves the switch only: the walk goes on from where it stopped
            continue;
          }
          next += CountTags(b);
          Wrap(next);
          continue;
        }
        TORN_ASSIGN_OR_RETURN(success,
                              ReplayTags(b, next, next_commit, success, block_error, descr_csum_size));
        continue;
      }

      if (type == jbd2::kCommit) {
        uint64_t commit_time = jbd2::Be64(b.data() + jbd2::kCommitSeconds);
        if (need_check_commit_time) {
          if (commit_time >= last_commit_time) return -kEfsBadCrc;
          break;  // a stale block: the end of the log
        }
        bool checksum_error = false;
        if (pass == Pass::kScan && (j_.features.compat & jbd2::kCompatChecksum)) {
          uint32_t found = jbd2::Be32(b.data() + jbd2::kCommitChecksum);
          uint8_t type8 = uint8_t(b[jbd2::kCommitChecksumType]),
                  size8 = uint8_t(b[jbd2::kCommitChecksumSize]);
          if (info_.end_transaction) {
            info_.failed_commit = info_.end_transaction;
            continue;  // e2fsck's `break` leaves the switch, not the walk
          }
          if (!((crc == found && type8 == jbd2::kChecksumCrc32 && size8 == jbd2::kCrc32ChecksumSize) ||
                (type8 == 0 && size8 == 0 && found == 0)))
            checksum_error = true;
          else
            crc = ~0u;
        }
        if (checksum_error || (pass == Pass::kScan && !CommitOk(b))) {
          if (commit_time < last_commit_time) break;  // a stale block
          info_.end_transaction = next_commit;
          if (!(j_.features.incompat & jbd2::kIncompatAsyncCommit)) {
            info_.failed_commit = next_commit;
            continue;  // as above: the next block (normally of another transaction) ends the walk
          }
        }
        if (pass == Pass::kScan) {
          last_commit_time = commit_time;
          if (!info_.end_transaction) info_.committed_end = next;
        }
        ++next_commit;
        steps = 0;
        continue;
      }

      if (type == jbd2::kRevoke) {
        if (pass == Pass::kScan && !BlockTailOk(b)) need_check_commit_time = true;
        if (pass != Pass::kRevoke) continue;
        int rerr = ScanRevoke(b, next_commit);
        if (rerr) return rerr;
        continue;
      }
      break;  // an unknown block type ends the log
    }

    // done:
    if (pass == Pass::kScan) {
      if (!info_.end_transaction) info_.end_transaction = next_commit;
    } else if (info_.end_transaction != next_commit) {
      if (!success) success = -EIO;
    }
    if (j_.has_fast_commit() && pass != Pass::kRevoke) {
      TORN_ASSIGN_OR_RETURN(int err, FastCommitPass(pass));
      if (err) success = err;
    }
    if (block_error && success == 0) success = -EIO;
    return success;
  }

  ext2_filsys fs_;
  Journal& j_;
  Disk& disk_;
  PassInfo& info_;
  const uint32_t bs_;
  const size_t tag_bytes_;
  std::unordered_map<uint64_t, uint32_t> revoked_;  // block -> latest transaction that revoked it
};

}  // namespace

Result<int> RunPasses(ext2_filsys fs, Journal& j, Disk& disk, PassInfo& info) {
  info.log_start = j.sb32(jbd2::kSbStart);
  info.committed_end = info.log_start;
  Passes p(fs, j, disk, info);
  return p.Run();
}

}  // namespace torn::ext4::recovery
