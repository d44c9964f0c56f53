#include "gate/workload.h"

#include <fmt/core.h>

namespace torn::gate {

// Each step does many buffered writes (several files, a few hundred KiB) before the inner file
// system's sync, so that the loop device sends the outer file system a burst of writes to the backing
// file and then one flush: what a missing flush on either level leaves undurable.
std::string DefaultWorkload() {
  return R"WL(# torn gate: the default workload (gate/workload.h)
truncate -s 24M "$BACKING"
LOOP=$(/usr/sbin/losetup --find --show $LOOP_OPTS "$BACKING")
/usr/sbin/mke2fs -q -F -t ext4 "$LOOP"
mkdir -p "$INNER"
if [ -n "$INNER_MOUNT_OPTS" ]; then mount -t ext4 -o "$INNER_MOUNT_OPTS" "$LOOP" "$INNER"
else mount -t ext4 "$LOOP" "$INNER"; fi
sync
mark gate-setup

# step 1: a directory of small files and a 256 KiB blob, then the inner file system's sync
mkdir "$INNER/d"
for i in 0 1 2 3 4 5 6 7; do echo "file $i" > "$INNER/d/f$i"; done
dd if=/dev/urandom of="$INNER/blob" bs=4k count=64 2>/dev/null
manifest inner-1 "$INNER"

# step 2: append, rename, unlink, overwrite in place; fsync one file after many buffered writes
echo "more" >> "$INNER/d/f0"
mv "$INNER/blob" "$INNER/d/blob"
rm "$INNER/d/f1"
dd if=/dev/urandom of="$INNER/d/f2" bs=4k count=32 2>/dev/null
dd if=/dev/urandom of="$INNER/big" bs=4k count=96 2>/dev/null
fsync "$INNER/big"
manifest inner-2 "$INNER"

# step 3: promises between the syncs, each checked in every lower crash state from its own mark on
# (`promise`: a partial inner manifest, oracles/data.h): a new file written and fsynced (its name and
# bytes: a journal commit), then files inner-2 made durable overwritten in place and fdatasynced (data
# only, no commit: one flush of the loop device each, so a driver that loses some flushes loses one of
# these promises, which no syncfs behind it covers)
dd if=/dev/urandom of="$INNER/p" bs=4k count=8 2>/dev/null
fsync "$INNER/p"
promise inner-fsync-p "$INNER" p
dd if=/dev/urandom of="$INNER/big" bs=4k count=4 seek=10 conv=notrunc 2>/dev/null
fdatasync "$INNER/big"
promise inner-fdatasync-big "$INNER" big
dd if=/dev/urandom of="$INNER/d/f2" bs=4k count=4 seek=4 conv=notrunc 2>/dev/null
fdatasync "$INNER/d/f2"
promise inner-fdatasync-f2 "$INNER" d/f2
printf 'FILE 4\n' | dd of="$INNER/d/f4" conv=notrunc 2>/dev/null
fdatasync "$INNER/d/f4"
promise inner-fdatasync-f4 "$INNER" d/f4
# an O_SYNC write (xfs_io -s: open(2) O_SYNC, file integrity completion: the write returns once it and
# the metadata needed to read it back are durable, as if fsynced) over part of d/blob, durable since
# inner-2; then an O_DIRECT write (xfs_io -d: it bypasses the page cache and promises nothing alone,
# docs/fuzz.md) over the head of big, followed by an fdatasync: the promise is the fdatasync's
/usr/sbin/xfs_io -s -c "pwrite -q -S 0x5a 65536 8192" "$INNER/d/blob"
promise inner-osync-blob "$INNER" d/blob
/usr/sbin/xfs_io -d -c "pwrite -q -S 0xa5 0 16384" -c fdatasync "$INNER/big"
promise inner-odirect-fdatasync-big "$INNER" big

# step 4: more of the same, so the stable files of steps 2 and 3 must survive the crashes of step 4
echo "three" > "$INNER/d/f3"
dd if=/dev/urandom of="$INNER/d/blob" bs=4k count=16 seek=8 conv=notrunc 2>/dev/null
manifest inner-3 "$INNER"

umount "$INNER"
/usr/sbin/losetup -d "$LOOP"
)WL";
}

std::string WorkloadPreamble(const GateOptions& o) {
  return fmt::format(
      "# set by torn gate (loop mode {}, injection {})\n"
      "BACKING=\"$MNT/{}\"\nLOOP_OPTS=\"{}\"\nINNER={}\nINNER_MOUNT_OPTS=\"{}\"\n"
      "export BACKING LOOP_OPTS INNER INNER_MOUNT_OPTS\n"
      "echo \"{}taint=$(cat /sys/module/loop/taint 2>/dev/null) "
      "version=$(cat /sys/module/loop/version 2>/dev/null)\"\n",
      LoopModeName(o.loop_mode), InjectName(o.inject), kBackingFile,
      o.loop_mode == LoopMode::kDirect ? "--direct-io=on" : "", kInnerMount,
      o.inject == Inject::kInnerNoBarrier ? "barrier=0" : "", kLoopModuleLine);
}

}  // namespace torn::gate
