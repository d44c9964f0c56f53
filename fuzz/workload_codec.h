// The binary encoding of workload_fuzzer's inputs: a workload (workload/op.h) as fixed 8-byte records,
// one per operation after the campaign's durable setup (campaign/generate.h's kSetup, implied, never
// encoded). Binary rather than the text form because every byte string must decode: libFuzzer's byte
// mutations, crossovers and -merge hand the target arbitrary bytes, and a text line with one flipped
// byte is a parse error that teaches the search nothing; a record with one flipped byte is still an
// operation (another file, another offset, another kind).
//
// A record: kind, path, path2, flags, offset (16 bits, little endian), length-1 (16 bits).
//   kind    byte % 17, OpKind's order
//   path    byte % 16, a name of kNames (the only names a workload uses: the generator's and a few more
//           levels of directories); path2 the same (link/rename/symlink's new name, symlink's target)
//   flags   bit 0 direct, bit 1 sync (pwrite); bits 2-3 falloc mode; bit 4 the xattr name (user.a,
//           user.b); bits 5-6 the xattr value (kValues); bit 7 offset in units of 16 bytes (sparse
//           files up to 1 MiB: more extents)
// Repair, the rule of campaign/generate.h (only valid sequences, no step fails for a reason the file
// system does not decide): a model of the namespace (files, directories, symlinks, inodes, xattrs)
// follows the ops; a record whose names do not fit the model takes the next names of kNames, in order
// from the ones it gave, that do (write needs an existing regular file, creat a free name in an existing
// directory, rmdir an empty directory, rename no directory into itself...); a record no names fit is
// dropped. A direct pwrite's offset and length are aligned to 4096 (O_DIRECT's rule on a 4K file
// system). At most kMaxSteps ops are decoded; a trailing partial record is ignored.
// Invariants: Decode(Encode(w)) == w for every w Encode accepts (Encode refuses a workload Decode would
// repair); Encode(Decode(b)) is canonical: decoding it gives the same ops.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "workload/op.h"

namespace torn::fuzz {

inline constexpr size_t kRecordBytes = 8;
inline constexpr size_t kMaxSteps = 16;
inline constexpr size_t kNameCount = 16;
extern const char* const kNames[kNameCount];

// The setup every decoded workload starts with (campaign::kSetup), parsed.
const workload::Workload& Setup();

// The steps (ops after the setup) the bytes stand for, repaired.
workload::Workload DecodeSteps(std::span<const uint8_t> bytes);
// Setup + DecodeSteps.
workload::Workload Decode(std::span<const uint8_t> bytes);

// The records of `steps` (ops after the setup); an error names the op ("op 3 'write f9 0 1': name f9
// not encodable") when a name, number or flag has no record, or the op is not valid where it stands.
Result<std::vector<uint8_t>> EncodeSteps(const workload::Workload& steps);
// A whole workload text that begins with the setup (campaign/generate.h's workloads).
Result<std::vector<uint8_t>> EncodeText(std::string_view text);

// What the model knows of a name after some ops: for the features (workload_features.h).
enum class NameKind : uint8_t { kNone, kFile, kDir, kSymlink };
// The kind of each op's first path in the model just before the op ran (kDir for "."), in order.
std::vector<NameKind> TargetKinds(const workload::Workload& w);

}  // namespace torn::fuzz
