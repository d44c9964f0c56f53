# torn corpus ext4-rsync-remount: ext4 with default options, 512-byte sectors; two rsync runs into one
# directory with an unmount between them (the machine was shut down cleanly, or the file system
# remounted), so the first run's directory blocks and inode-table blocks are checkpointed in place.
# Run 1 copies 40 files; run 2 rewrites every third file (a temporary ".NAME.N", renamed over NAME:
# the old inode is unlinked and freed) and deletes 8 (--delete). `sync` after each run, with a
# manifest. Then the unmount, between the marks umount-start and umount-done: its jbd2 checkpoint
# writes run 2's directory and inode-table blocks in place, flushes, and marks the journal empty.
mkdir $MNT/dir
n=0
put() {  # put NAME TEXT: rsync's write of one file: a temporary, then a rename over NAME
  n=$((n + 1))
  tmp=$MNT/dir/.$1.$n
  echo "$2" > $tmp
  mv $tmp $MNT/dir/$1
}
for i in $(seq 1 40); do put f$i "run 1 file $i"; done
manifest run-1
umount $MNT
mount -t ext4 $DEV $MNT
mark remount
for i in $(seq 1 3 40); do put f$i "run 2 file $i"; done
for i in $(seq 5 5 40); do rm -f $MNT/dir/f$i; done
manifest run-2
mark umount-start
umount $MNT
mark umount-done
