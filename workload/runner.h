// torn's guest runner, the library part: executes a workload (workload/op.h) with system calls under a
// root directory and keeps the set of what the persistence operations so far have promised to be
// durable (docs/fuzz.md, "Promises"). runner_main.cc wraps it into the static program the lab VM runs;
// the tests run it on a temporary directory.
//
// The promise set maps a path (relative to the root) to one of
//   content   a regular file whose size and md5 are durable (fsync, fdatasync, sync, syncfs; an
//             O_SYNC pwrite to a file whose content was already promised)
//   exists    a regular file whose name is durable, content not promised (an entry of an fsynced
//             directory; a content promise after the file was written again)
//   dir       a directory whose name is durable (an ancestor of a promised path, an fsynced
//             directory, an entry of one)
//   either    a regular file holding one of two contents (the target of a rename)
// Rules, applied after each operation succeeds:
//   1. a write, pwrite, truncate or falloc on f turns every content promise of f's inode (all its
//      hard links) into exists: after a crash the file holds the old or the new bytes, or a mix;
//   2. unlink p, rmdir p drop p; rename a b drops a, b and everything under them (the names are in
//      flux until the next persistence operation), except that when b was a promised regular file
//      b stays promised (rename atomicity, POSIX rename(2): the name b refers to the old file or the
//      new one throughout): either (old b's content, a's content) when both contents were promised,
//      else exists; either way not bound: an fsync of the file does not promise which file the name
//      holds (fdatasync(2) does not even write the rename), an fsync of its directory does. The
//      runner sends a mark after each rename, so this holds from the rename on;
//   3. fsync/fdatasync of a regular file f promise f's content (and f's ancestors) when f's name is
//      durable already (it is in the set) or f is a new file (made by creat in this workload, its name
//      not renamed or linked since): fsync(2) "does not necessarily ensure that the entry in the
//      directory containing the file has also reached disk", so a name that a rename or link made is
//      promised only by an fsync of its directory; Linux file systems (ext4, xfs, btrfs) persist a new
//      file's name with its first fsync, which CrashMonkey's checker also expects. Of a directory d:
//      d, its ancestors and its entries (exists or dir; symlinks are not promised);
//   4. sync and syncfs promise the whole tree as it is (the set becomes the tree);
//   5. pwrite with sync promises f's content when f's content was promised before the write (O_SYNC
//      makes the written range durable, and the rest was); pwrite with only direct promises nothing
//      (open(2): O_DIRECT alone does not give O_SYNC's guarantees).
// Invariant: every path in the set exists in the tree as its kind says.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "workload/op.h"

namespace torn::workload {

struct Promise {
  enum class Kind { kContent, kExists, kDir, kEither };
  Kind kind = Kind::kContent;
  uint64_t size = 0;
  std::string md5;
  uint64_t ino = 0;
  uint64_t size2 = 0;  // kEither: the other content
  std::string md5_2;
  // The name is durably bound to this inode. False after a rename over a promised file: the name
  // is durable, which inode it names is not until its directory is fsynced.
  bool bound = true;
  bool operator==(const Promise&) const = default;
};

using PromiseSet = std::map<std::string, Promise>;

// Report lines of a manifest (recorder/guest_report.h): "TORN-MANIFEST NAME D ." (the root), "TORN-MANIFEST NAME F SIZE MD5 ./PATH",
// "TORN-MANIFEST NAME O SIZE MD5 SIZE2 MD5_2 ./PATH" (either),
// "TORN-MANIFEST NAME E ./PATH" (exists), "TORN-MANIFEST NAME D ./PATH", then "TORN-MANIFEST-END NAME".
std::string ManifestLines(const std::string& name, const PromiseSet& set);

class Runner {
 public:
  explicit Runner(std::string root) : root_(std::move(root)) {}

  // Runs op number `index` (0-based, for its data bytes). Returns "" or what failed ("pwrite f0:
  // Invalid argument"). A failed operation changes no promise but may drop some.
  std::string Execute(size_t index, const Op& op);

  const PromiseSet& promises() const { return promises_; }
  // The whole tree under the root, as sync would promise it.
  PromiseSet Tree() const;

 private:
  std::string Full(const std::string& path) const { return path == "." ? root_ : root_ + "/" + path; }
  bool Facts(const std::string& path, Promise& out) const;
  void PromiseAncestors(const std::string& path);
  void PromisePath(const std::string& path);
  void Downgrade(uint64_t ino);
  void DropUnder(const std::string& path);

  std::string root_;
  PromiseSet promises_;
  std::map<std::string, uint64_t> fresh_;  // names made by creat, untouched since: path -> inode
};

}  // namespace torn::workload
