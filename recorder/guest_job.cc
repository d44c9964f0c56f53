#include "recorder/guest_job.h"

#include "base/subprocess.h"

namespace torn::recorder {
namespace {

constexpr const char* kRun = R"RUN(# torn record: guest job (recorder/guest_job.h)
. /job/config
export DEV=/dev/mapper/torn-log MNT=/mnt FS
export PATH=/job/bin:$PATH
step() { echo "@@torn: $1"; }
fail() { echo "@@torn: setup failed: $2"; exit $((120 + $1)); }

SECTORS=$(blockdev --getsz /dev/vda) || fail 1 "cannot size /dev/vda"
/usr/sbin/dmsetup create torn-log --table "0 $SECTORS log-writes /dev/vda /dev/vdb" ||
  fail 1 "dmsetup create log-writes"
/usr/sbin/dmsetup mknodes torn-log
[ -b "$DEV" ] || fail 1 "$DEV did not appear"
step "mkfs $FS $MKFS_OPTS"
$MKFS $MKFS_OPTS "$DEV" || fail 2 "mkfs failed"
mark mkfs || fail 2 "cannot send the mark mkfs"
if [ -n "$MOUNT_OPTS" ]; then
  mount -t "$FS" -o "$MOUNT_OPTS" "$DEV" "$MNT" || fail 3 "mount -o $MOUNT_OPTS failed"
else
  mount -t "$FS" "$DEV" "$MNT" || fail 3 "mount failed"
fi
step "workload start"
cd /tmp
sh -e /job/workload.sh
rc=$?
echo "TORN-WORKLOAD-EXIT $rc" > $TORN_REPORT
step "workload exit $rc"
cd /
# Tear down what the workload left: mounts under $MNT (deepest first), loop devices, $MNT itself.
for m in $(awk -v m="$MNT" '$2 == m || index($2, m "/") == 1 { print $2 }' /proc/mounts | sort -r); do
  umount "$m" || echo "@@torn: cannot unmount $m"
  /usr/sbin/losetup -D 2>/dev/null
done
/usr/sbin/losetup -D 2>/dev/null
sync
n=0
until /usr/sbin/dmsetup remove torn-log; do
  n=$((n + 1)); [ $n -lt 20 ] || fail 4 "dmsetup remove torn-log failed (device busy)"
  sleep 0.5
done
step "log closed"
exit $rc
)RUN";

constexpr const char* kMark = R"MARK(#!/bin/sh
# mark NAME: insert NAME into the dm-log-writes log (recorder/guest_job.h).
if [ $# -ne 1 ]; then echo "usage: mark NAME" >&2; exit 2; fi
case "$1" in
  "" | *[!A-Za-z0-9._+:@=-]*) echo "mark: bad name '$1' (use letters, digits and ._+:@=-)" >&2; exit 2 ;;
esac
if [ ${#1} -gt 128 ]; then echo "mark: name longer than 128 characters" >&2; exit 2; fi
/usr/sbin/dmsetup message torn-log 0 mark "$1" || exit 1
echo "TORN-MARK $1" > $TORN_REPORT
echo "@@torn: mark $1"
)MARK";

constexpr const char* kManifest = R"MAN(#!/bin/sh
# manifest NAME [DIR]: record the files and directories of DIR (default $MNT), then mark NAME
# (recorder/guest_job.h). Without DIR: sync(2) before and after the walk. With DIR (a file system
# mounted somewhere else, such as an inner ext4 on a loop device): syncfs(2) of DIR only, so the mark
# says what that file system's own sync made durable.
set -e
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: manifest NAME [DIR]" >&2; exit 2; fi
case "$1" in
  "" | *[!A-Za-z0-9._+:@=-]*) echo "manifest: bad name '$1'" >&2; exit 2 ;;
esac
dir="${2:-$MNT}"
[ -d "$dir" ] || { echo "manifest: $dir is not a directory" >&2; exit 2; }
flush() { if [ $# -eq 2 ]; then sync -f "$dir"; else sync; fi; }
flush "$@"
out=/tmp/manifest.$$
( cd "$dir"
  find . -xdev -type d | sort | while IFS= read -r d; do
    printf 'TORN-MANIFEST %s D %s\n' "$1" "$d"
  done
  find . -xdev -type f | sort | while IFS= read -r f; do
    printf 'TORN-MANIFEST %s F %s %s %s\n' "$1" "$(stat -c %s "$f")" "$(md5sum < "$f" | cut -d' ' -f1)" "$f"
  done ) > $out
flush "$@"
mark "$1"
cat $out > $TORN_REPORT
echo "TORN-MANIFEST-END $1" > $TORN_REPORT
rm -f $out
)MAN";

constexpr const char* kPromise = R"PRO(#!/bin/sh
# promise NAME DIR FILE...: after an fsync or fdatasync of each FILE (a path relative to DIR, which the
# caller did), mark NAME and record the FILEs' sizes and md5s as the partial manifest NAME: what that
# fsync promised, and nothing about any other path (recorder/guest_job.h).
set -e
if [ $# -lt 3 ]; then echo "usage: promise NAME DIR FILE..." >&2; exit 2; fi
case "$1" in
  "" | *[!A-Za-z0-9._+:@=-]*) echo "promise: bad name '$1'" >&2; exit 2 ;;
esac
name="$1"; dir="$2"; shift 2
out=/tmp/promise.$$
echo "TORN-MANIFEST $name P" > $out
for f in "$@"; do
  [ -f "$dir/$f" ] || { echo "promise: $dir/$f is not a regular file" >&2; exit 2; }
  printf 'TORN-MANIFEST %s F %s %s ./%s\n' "$name" "$(stat -c %s "$dir/$f")" "$(md5sum < "$dir/$f" | cut -d' ' -f1)" "$f" >> $out
done
mark "$name"
cat $out > $TORN_REPORT
echo "TORN-MANIFEST-END $name" > $TORN_REPORT
rm -f $out
)PRO";

std::string Assign(const std::string& name, const std::string& value) {
  return name + "=" + (value.empty() ? std::string("''") : QuoteArgv({value})) + "\n";
}

}  // namespace

std::string GuestRunScript() { return kRun; }

std::vector<lab::GuestFile> GuestJobFiles(const GuestJobOptions& o) {
  std::string config = Assign("FS", o.fs) + Assign("MKFS", o.mkfs) + Assign("MKFS_OPTS", o.mkfs_opts) +
                       Assign("MOUNT_OPTS", o.mount_opts);
  return {
      {"config", config},
      {"workload.sh", o.workload, 0755},
      {"bin/mark", kMark, 0755},
      {"bin/manifest", kManifest, 0755},
      {"bin/promise", kPromise, 0755},
      {"bin/fsync", "#!/bin/sh\n# fsync FILE...: fsync(2) each file\nexec sync \"$@\"\n", 0755},
      {"bin/fdatasync", "#!/bin/sh\n# fdatasync FILE...: fdatasync(2) each file\nexec sync -d \"$@\"\n", 0755},
  };
}

bool ValidMarkName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("._+:@=-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace torn::recorder
